// A zero-copy view of a UDP header (RFC 768) over a byte array.
//
// Point it at the IP payload: offset = the IPv4 view's payloadOffset, length = its payloadLength.
// A checksum of 0 means the sender computed none: it verifies, and incremental updates leave it
// alone. A computed checksum of 0 is stored as 0xffff. Nothing here allocates or throws.

import {
  foldSum,
  pseudoHeaderSum,
  read16,
  sumBytes,
  udpChecksumUpdate16,
  udpChecksumUpdate32,
  verifyChecksum,
  write16,
} from "./checksum.ts";
import { IPPROTO_UDP } from "../net/protocols.ts";
import { PacketView } from "./view.ts";

export const UDP_HEADER_LENGTH = 8;

export const UDP_OFF_SOURCE_PORT = 0;
export const UDP_OFF_DESTINATION_PORT = 2;
export const UDP_OFF_LENGTH = 4;
export const UDP_OFF_CHECKSUM = 6;

/**
 * Why a datagram fails validate(), as netfilter's udp_error() sees it
 * (net/netfilter/nf_conntrack_proto_udp.c):
 *   - "truncated":        fewer than 8 bytes ("short packet")
 *   - "length-too-long":  the UDP length is more than the bytes there ("truncated/malformed")
 *   - "length-too-short": the UDP length is below 8 ("truncated/malformed")
 */
export type UdpInvalid = "truncated" | "length-too-long" | "length-too-short";
export type UdpValidation = "ok" | UdpInvalid;

export class UdpView extends PacketView {
  validate(): UdpValidation {
    if (this.byteLength < UDP_HEADER_LENGTH) return "truncated";
    const len = read16(this.buf, this.offset + UDP_OFF_LENGTH);
    if (len > this.byteLength) return "length-too-long";
    if (len < UDP_HEADER_LENGTH) return "length-too-short";
    return "ok";
  }

  // --- fields -----------------------------------------------------------------------------------

  get sourcePort(): number {
    return read16(this.buf, this.offset + UDP_OFF_SOURCE_PORT);
  }

  get destinationPort(): number {
    return read16(this.buf, this.offset + UDP_OFF_DESTINATION_PORT);
  }

  /** The length field: header plus data, in bytes. */
  get udpLength(): number {
    return read16(this.buf, this.offset + UDP_OFF_LENGTH);
  }

  get checksum(): number {
    return read16(this.buf, this.offset + UDP_OFF_CHECKSUM);
  }

  /** Where the data starts in `buf`. */
  get payloadOffset(): number {
    return this.offset + UDP_HEADER_LENGTH;
  }

  /** Data bytes according to the length field (0 if it is below 8). */
  get payloadLength(): number {
    const n = this.udpLength - UDP_HEADER_LENGTH;
    return n > 0 ? n : 0;
  }

  // --- checksum -------------------------------------------------------------------------------

  /**
   * The checksum the datagram should carry for the given addresses, over the bytes the UDP length
   * field covers (as the UDP receive path does after trimming; netfilter's nf_checksum() sums the
   * whole IP payload instead, which differs only when the length field is shorter). A computed 0
   * is returned as 0xffff.
   */
  computeChecksum(src: number, dst: number): number {
    const len = this.coveredLength();
    let sum = pseudoHeaderSum(src, dst, IPPROTO_UDP, len);
    sum = sumBytes(this.buf, this.offset, UDP_OFF_CHECKSUM, sum);
    sum = sumBytes(this.buf, this.offset + UDP_OFF_CHECKSUM + 2, len - UDP_OFF_CHECKSUM - 2, sum);
    return ~foldSum(sum) & 0xffff || 0xffff;
  }

  /** True when the checksum verifies or is 0 ("none"). */
  verifyChecksum(src: number, dst: number): boolean {
    if (this.checksum === 0) return true;
    const len = this.coveredLength();
    return verifyChecksum(this.buf, this.offset, len, pseudoHeaderSum(src, dst, IPPROTO_UDP, len));
  }

  /** Recomputes the checksum from scratch and stores it. */
  fillChecksum(src: number, dst: number): void {
    write16(this.buf, this.offset + UDP_OFF_CHECKSUM, this.computeChecksum(src, dst));
  }

  /** Stores a checksum as given; 0 means "no checksum". */
  setChecksum(value: number): void {
    write16(this.buf, this.offset + UDP_OFF_CHECKSUM, value);
  }

  /**
   * Fixes the checksum for an IP address rewrite (pseudo-header), as nf_nat's udp_manip_pkt does:
   * nothing when the checksum is 0, and a result of 0 becomes 0xffff.
   */
  updateForAddressChange(oldAddr: number, newAddr: number): void {
    const at = this.offset + UDP_OFF_CHECKSUM;
    write16(this.buf, at, udpChecksumUpdate32(read16(this.buf, at), oldAddr >>> 0, newAddr >>> 0));
  }

  // --- setters that keep the checksum right --------------------------------------------------

  setSourcePort(port: number): void {
    this.replaceWord(UDP_OFF_SOURCE_PORT, port & 0xffff);
  }

  setDestinationPort(port: number): void {
    this.replaceWord(UDP_OFF_DESTINATION_PORT, port & 0xffff);
  }

  /** Bytes the checksum covers: the length field, clamped to the bytes there. */
  private coveredLength(): number {
    const len = this.udpLength;
    return len < this.byteLength ? len : this.byteLength;
  }

  private replaceWord(fieldOffset: number, value: number): void {
    const at = this.offset + fieldOffset;
    const old = read16(this.buf, at);
    write16(this.buf, at, value);
    const checkAt = this.offset + UDP_OFF_CHECKSUM;
    write16(this.buf, checkAt, udpChecksumUpdate16(read16(this.buf, checkAt), old, value));
  }
}
