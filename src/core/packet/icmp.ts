// A zero-copy view of an ICMP message (RFC 792) over a byte array, with nested views of the
// packet an ICMP error quotes, so NAT can translate the quote back.
//
// Point it at the IP payload: offset = the IPv4 view's payloadOffset, length = its payloadLength.
// The checksum covers the whole message (no pseudo-header). Nothing here allocates on the fast
// path (the nested views are made once per IcmpView) or throws.

import {
  checksumUpdate16,
  checksumUpdate16Odd,
  checksumUpdate32,
  foldSum,
  read16,
  read32,
  sumBytes,
  udpChecksumUpdate16,
  udpChecksumUpdate32,
  verifyChecksum,
  write16,
} from "./checksum.ts";
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from "../net/protocols.ts";
import { IPV4_OFF_CHECKSUM, IPV4_OFF_DESTINATION, IPV4_OFF_SOURCE, Ipv4View } from "./ipv4.ts";
import { TCP_OFF_CHECKSUM, TCP_OFF_DESTINATION_PORT, TCP_OFF_SOURCE_PORT, TcpView } from "./tcp.ts";
import { UDP_OFF_CHECKSUM, UdpView } from "./udp.ts";
import { PacketView } from "./view.ts";

export const ICMP_HEADER_LENGTH = 8;

export const ICMP_ECHO_REPLY = 0;
export const ICMP_DEST_UNREACH = 3;
export const ICMP_SOURCE_QUENCH = 4;
export const ICMP_REDIRECT = 5;
export const ICMP_ECHO = 8;
export const ICMP_ROUTER_ADVERTISEMENT = 9;
export const ICMP_ROUTER_SOLICITATION = 10;
export const ICMP_TIME_EXCEEDED = 11;
export const ICMP_PARAMETER_PROBLEM = 12;
export const ICMP_TIMESTAMP = 13;
export const ICMP_TIMESTAMP_REPLY = 14;
export const ICMP_INFO_REQUEST = 15;
export const ICMP_INFO_REPLY = 16;
export const ICMP_ADDRESS = 17;
export const ICMP_ADDRESS_REPLY = 18;
/** The highest type Linux knows (NR_ICMP_TYPES); conntrack refuses anything above. */
export const ICMP_MAX_TYPE = 18;

/** Codes of ICMP_DEST_UNREACH. */
export const ICMP_NET_UNREACH = 0;
export const ICMP_HOST_UNREACH = 1;
export const ICMP_PROT_UNREACH = 2;
export const ICMP_PORT_UNREACH = 3;
export const ICMP_FRAG_NEEDED = 4;
export const ICMP_SR_FAILED = 5;
export const ICMP_NET_UNKNOWN = 6;
export const ICMP_HOST_UNKNOWN = 7;
export const ICMP_HOST_ISOLATED = 8;
export const ICMP_NET_ANO = 9;
export const ICMP_HOST_ANO = 10;
export const ICMP_NET_UNR_TOS = 11;
export const ICMP_HOST_UNR_TOS = 12;
export const ICMP_PKT_FILTERED = 13;
export const ICMP_PREC_VIOLATION = 14;
export const ICMP_PREC_CUTOFF = 15;

/** Codes of ICMP_TIME_EXCEEDED. */
export const ICMP_EXC_TTL = 0;
export const ICMP_EXC_FRAGTIME = 1;

export const ICMP_OFF_TYPE = 0;
export const ICMP_OFF_CODE = 1;
export const ICMP_OFF_CHECKSUM = 2;
export const ICMP_OFF_IDENTIFIER = 4;
export const ICMP_OFF_SEQUENCE = 6;

/** Error messages, which quote the offending packet (the kernel's icmp_is_err()). */
export function isIcmpError(type: number): boolean {
  return (
    type === ICMP_DEST_UNREACH ||
    type === ICMP_SOURCE_QUENCH ||
    type === ICMP_REDIRECT ||
    type === ICMP_TIME_EXCEEDED ||
    type === ICMP_PARAMETER_PROBLEM
  );
}

/** Query messages with an identifier/sequence (echo, timestamp, info, address mask). */
export function isIcmpQuery(type: number): boolean {
  return (
    type === ICMP_ECHO ||
    type === ICMP_ECHO_REPLY ||
    (type >= ICMP_TIMESTAMP && type <= ICMP_ADDRESS_REPLY)
  );
}

/**
 * Why a message fails validate(), as netfilter's icmp_error() sees it
 * (net/netfilter/nf_conntrack_proto_icmp.c):
 *   - "truncated": fewer than 8 bytes ("short packet")
 *   - "bad-type":  type above 18 ("invalid icmp type")
 */
export type IcmpInvalid = "truncated" | "bad-type";
export type IcmpValidation = "ok" | IcmpInvalid;

/**
 * Why openInner() cannot give access to the quoted packet:
 *   - "not-error":                the message is not an error, it quotes nothing
 *   - "truncated":                the ICMP header itself is short
 *   - "inner-truncated", "inner-bad-ihl", "inner-bad-version", "inner-header-truncated":
 *                                 the quoted IP header is unusable (Ipv4View.validateQuoted())
 *   - "inner-fragment":           the quote is a non-first fragment: no transport header
 *                                 (conntrack gives up on it too)
 *   - "inner-transport-truncated": fewer than 8 transport bytes quoted for TCP, UDP or ICMP,
 *                                 so there are no ports or identifier to translate
 */
export type IcmpInnerInvalid =
  | "not-error"
  | "truncated"
  | "inner-truncated"
  | "inner-bad-ihl"
  | "inner-bad-version"
  | "inner-header-truncated"
  | "inner-fragment"
  | "inner-transport-truncated";
export type IcmpInnerValidation = "ok" | IcmpInnerInvalid;

export class IcmpView extends PacketView {
  /** The quoted IP header, positioned by openInner(). */
  readonly inner = new Ipv4View();
  /** The quoted TCP header (often only its first 8 bytes), positioned by openInner(). */
  readonly innerTcp = new TcpView();
  /** The quoted UDP header, positioned by openInner(). */
  readonly innerUdp = new UdpView();
  private innerIcmpView: IcmpView | null = null;
  /** Set by a successful openInner(); the setInner*() methods do nothing without it. */
  private innerOpen = false;

  override reset(buf: Uint8Array, offset = 0, length = buf.length - offset): this {
    super.reset(buf, offset, length);
    this.innerOpen = false;
    return this;
  }

  /** The quoted ICMP message (an echo request, say), positioned by openInner(). Made once. */
  get innerIcmp(): IcmpView {
    if (this.innerIcmpView === null) this.innerIcmpView = new IcmpView();
    return this.innerIcmpView;
  }

  validate(): IcmpValidation {
    if (this.byteLength < ICMP_HEADER_LENGTH) return "truncated";
    if (this.buf[this.offset]! > ICMP_MAX_TYPE) return "bad-type";
    return "ok";
  }

  // --- fields -----------------------------------------------------------------------------------

  get type(): number {
    return this.buf[this.offset + ICMP_OFF_TYPE]!;
  }

  get code(): number {
    return this.buf[this.offset + ICMP_OFF_CODE]!;
  }

  get checksum(): number {
    return read16(this.buf, this.offset + ICMP_OFF_CHECKSUM);
  }

  get isError(): boolean {
    return isIcmpError(this.buf[this.offset]!);
  }

  get isQuery(): boolean {
    return isIcmpQuery(this.buf[this.offset]!);
  }

  /** Identifier of a query message (echo etc.). */
  get identifier(): number {
    return read16(this.buf, this.offset + ICMP_OFF_IDENTIFIER);
  }

  /** Sequence number of a query message. */
  get sequence(): number {
    return read16(this.buf, this.offset + ICMP_OFF_SEQUENCE);
  }

  /** Bytes 4-7 as an unsigned 32-bit number (unused, gateway, pointer, MTU...). */
  get restOfHeader(): number {
    return read32(this.buf, this.offset + 4);
  }

  /** Gateway address of a redirect. */
  get gateway(): number {
    return read32(this.buf, this.offset + 4);
  }

  /** Byte pointer of a parameter problem. */
  get pointer(): number {
    return this.buf[this.offset + 4]!;
  }

  /** Next-hop MTU of a "fragmentation needed" (RFC 1191). */
  get nextHopMtu(): number {
    return read16(this.buf, this.offset + 6);
  }

  /** Where the data (the quoted packet, for an error) starts in `buf`. */
  get payloadOffset(): number {
    return this.offset + ICMP_HEADER_LENGTH;
  }

  get payloadLength(): number {
    const n = this.byteLength - ICMP_HEADER_LENGTH;
    return n > 0 ? n : 0;
  }

  // --- checksum -------------------------------------------------------------------------------

  /** The checksum the message should carry (field counted as zero). */
  computeChecksum(): number {
    let sum = sumBytes(this.buf, this.offset, ICMP_OFF_CHECKSUM);
    sum = sumBytes(this.buf, this.offset + ICMP_OFF_CHECKSUM + 2, this.byteLength - ICMP_OFF_CHECKSUM - 2, sum);
    return ~foldSum(sum) & 0xffff;
  }

  verifyChecksum(): boolean {
    return verifyChecksum(this.buf, this.offset, this.byteLength);
  }

  /** Recomputes the checksum from scratch and stores it (what Linux NAT does after a quote rewrite). */
  fillChecksum(): void {
    write16(this.buf, this.offset + ICMP_OFF_CHECKSUM, this.computeChecksum());
  }

  setChecksum(value: number): void {
    write16(this.buf, this.offset + ICMP_OFF_CHECKSUM, value);
  }

  // --- rewrites that keep the ICMP checksum right ------------------------------------------------

  /** Sets the query identifier (what NAT rewrites for echo), updating the checksum. */
  setIdentifier(id: number): void {
    this.rewrite16(this.offset + ICMP_OFF_IDENTIFIER, id & 0xffff);
  }

  setSequence(seq: number): void {
    this.rewrite16(this.offset + ICMP_OFF_SEQUENCE, seq & 0xffff);
  }

  /**
   * Writes a 16-bit value at `at` (an absolute offset in `buf`, inside the message) and updates
   * the ICMP checksum incrementally. Works at odd positions too.
   */
  rewrite16(at: number, value: number): void {
    const old = read16(this.buf, at);
    write16(this.buf, at, value);
    const checkAt = this.offset + ICMP_OFF_CHECKSUM;
    const check = read16(this.buf, checkAt);
    write16(
      this.buf,
      checkAt,
      ((at - this.offset) & 1) === 0 ? checksumUpdate16(check, old, value) : checksumUpdate16Odd(check, old, value),
    );
  }

  /** Writes a 32-bit value at `at` (absolute) and updates the ICMP checksum incrementally. */
  rewrite32(at: number, value: number): void {
    if (((at - this.offset) & 1) === 0) {
      const old = read32(this.buf, at);
      this.buf[at] = (value >>> 24) & 0xff;
      this.buf[at + 1] = (value >>> 16) & 0xff;
      this.buf[at + 2] = (value >>> 8) & 0xff;
      this.buf[at + 3] = value & 0xff;
      const checkAt = this.offset + ICMP_OFF_CHECKSUM;
      write16(this.buf, checkAt, checksumUpdate32(read16(this.buf, checkAt), old, value >>> 0));
    } else {
      this.rewrite16(at, value >>> 16);
      this.rewrite16(at + 2, value & 0xffff);
    }
  }

  // --- the quoted packet -----------------------------------------------------------------------

  /**
   * Positions `inner` on the quoted IP header and `innerTcp`/`innerUdp`/`innerIcmp` (by the
   * quoted protocol) on the quoted transport header, with as many bytes as were quoted.
   * Returns "ok" or why the quote is unusable; the views are positioned as far as possible.
   */
  openInner(): IcmpInnerValidation {
    this.innerOpen = false;
    if (this.byteLength < ICMP_HEADER_LENGTH) return "truncated";
    if (!isIcmpError(this.buf[this.offset]!)) return "not-error";
    const inner = this.inner;
    inner.reset(this.buf, this.offset + ICMP_HEADER_LENGTH, this.byteLength - ICMP_HEADER_LENGTH);
    switch (inner.validateQuoted()) {
      case "truncated":
        return "inner-truncated";
      case "bad-ihl":
        return "inner-bad-ihl";
      case "bad-version":
        return "inner-bad-version";
      case "header-truncated":
        return "inner-header-truncated";
      case "ok":
        break;
    }
    if (!inner.isFirstFragment) return "inner-fragment";
    const l4 = inner.payloadOffset;
    const available = this.offset + this.byteLength - l4;
    const protocol = inner.protocol;
    if (protocol === IPPROTO_TCP) this.innerTcp.reset(this.buf, l4, available);
    else if (protocol === IPPROTO_UDP) this.innerUdp.reset(this.buf, l4, available);
    else if (protocol === IPPROTO_ICMP) this.innerIcmp.reset(this.buf, l4, available);
    if ((protocol === IPPROTO_TCP || protocol === IPPROTO_UDP || protocol === IPPROTO_ICMP) && available < 8) {
      return "inner-transport-truncated";
    }
    this.innerOpen = true;
    return "ok";
  }

  /** Bytes of the quoted transport header and data (after openInner()). */
  get innerTransportLength(): number {
    const n = this.offset + this.byteLength - this.inner.payloadOffset;
    return n > 0 ? n : 0;
  }

  /**
   * Rewrites the quoted source address after a successful openInner() (returns false and does
   * nothing otherwise), keeping right: the quoted IP header checksum, the quoted TCP/UDP
   * checksum when it was quoted (pseudo-header; a UDP checksum of 0 stays 0), and the ICMP
   * checksum. The quoted TCP checksum is at bytes 16-17, so it is only there when at least 18
   * transport bytes were quoted (like the kernel's nf_nat tcp_manip_pkt, nothing else is done
   * then). Linux NAT recomputes the whole ICMP checksum instead; the result is the same.
   */
  setInnerSource(addr: number): boolean {
    return this.setInnerAddress(this.inner.offset + IPV4_OFF_SOURCE, addr >>> 0);
  }

  /** Rewrites the quoted destination address; see setInnerSource(). */
  setInnerDestination(addr: number): boolean {
    return this.setInnerAddress(this.inner.offset + IPV4_OFF_DESTINATION, addr >>> 0);
  }

  /** Rewrites the quoted TCP/UDP source port (false for other protocols); see setInnerSource(). */
  setInnerSourcePort(port: number): boolean {
    return this.setInnerPort(TCP_OFF_SOURCE_PORT, port & 0xffff);
  }

  /** Rewrites the quoted TCP/UDP destination port; see setInnerSource(). */
  setInnerDestinationPort(port: number): boolean {
    return this.setInnerPort(TCP_OFF_DESTINATION_PORT, port & 0xffff);
  }

  /** Rewrites the identifier of a quoted ICMP message, fixing its checksum and the outer one. */
  setInnerIcmpIdentifier(id: number): boolean {
    if (!this.innerOpen || this.inner.protocol !== IPPROTO_ICMP) return false;
    const l4 = this.inner.payloadOffset;
    const old = read16(this.buf, l4 + ICMP_OFF_IDENTIFIER);
    const value = id & 0xffff;
    this.rewrite16(l4 + ICMP_OFF_IDENTIFIER, value);
    const checkAt = l4 + ICMP_OFF_CHECKSUM;
    this.rewrite16(checkAt, checksumUpdate16(read16(this.buf, checkAt), old, value));
    return true;
  }

  private setInnerAddress(at: number, addr: number): boolean {
    if (!this.innerOpen) return false;
    const old = read32(this.buf, at);
    this.rewrite32(at, addr);
    const ipCheckAt = this.inner.offset + IPV4_OFF_CHECKSUM;
    this.rewrite16(ipCheckAt, checksumUpdate32(read16(this.buf, ipCheckAt), old, addr));
    const protocol = this.inner.protocol;
    const l4 = this.inner.payloadOffset;
    const available = this.innerTransportLength;
    if (protocol === IPPROTO_TCP && available >= TCP_OFF_CHECKSUM + 2) {
      const checkAt = l4 + TCP_OFF_CHECKSUM;
      this.rewrite16(checkAt, checksumUpdate32(read16(this.buf, checkAt), old, addr));
    } else if (protocol === IPPROTO_UDP && available >= UDP_OFF_CHECKSUM + 2) {
      const checkAt = l4 + UDP_OFF_CHECKSUM;
      const check = read16(this.buf, checkAt);
      if (check !== 0) this.rewrite16(checkAt, udpChecksumUpdate32(check, old, addr));
    }
    return true;
  }

  private setInnerPort(fieldOffset: number, port: number): boolean {
    if (!this.innerOpen) return false;
    const protocol = this.inner.protocol;
    if (protocol !== IPPROTO_TCP && protocol !== IPPROTO_UDP) return false;
    const available = this.innerTransportLength;
    const l4 = this.inner.payloadOffset;
    const old = read16(this.buf, l4 + fieldOffset);
    this.rewrite16(l4 + fieldOffset, port);
    if (protocol === IPPROTO_TCP && available >= TCP_OFF_CHECKSUM + 2) {
      const checkAt = l4 + TCP_OFF_CHECKSUM;
      this.rewrite16(checkAt, checksumUpdate16(read16(this.buf, checkAt), old, port));
    } else if (protocol === IPPROTO_UDP && available >= UDP_OFF_CHECKSUM + 2) {
      const checkAt = l4 + UDP_OFF_CHECKSUM;
      const check = read16(this.buf, checkAt);
      if (check !== 0) this.rewrite16(checkAt, udpChecksumUpdate16(check, old, port));
    }
    return true;
  }
}
