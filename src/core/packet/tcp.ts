// A zero-copy view of a TCP header (RFC 9293) over a byte array.
//
// Point it at the IP payload: offset = the IPv4 view's payloadOffset, length = its payloadLength
// (the segment length the pseudo-header counts). Getters do not check bounds (validate() first);
// nothing here allocates or throws.

import {
  checksumUpdate16,
  checksumUpdate32,
  foldSum,
  pseudoHeaderSum,
  read16,
  read32,
  sumBytes,
  verifyChecksum,
  write16,
  write32,
} from "./checksum.ts";
import { IPPROTO_TCP } from "../net/protocols.ts";
import { PacketView } from "./view.ts";

export const TCP_MIN_HEADER_LENGTH = 20;
export const TCP_MAX_HEADER_LENGTH = 60;

/** Flag bits of byte 13 (the byte iptables' --tcp-flags looks at). */
export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;

export const TCP_OFF_SOURCE_PORT = 0;
export const TCP_OFF_DESTINATION_PORT = 2;
export const TCP_OFF_SEQ = 4;
export const TCP_OFF_ACK = 8;
export const TCP_OFF_DATA_OFFSET = 12;
export const TCP_OFF_FLAGS = 13;
export const TCP_OFF_WINDOW = 14;
export const TCP_OFF_CHECKSUM = 16;
export const TCP_OFF_URGENT = 18;

/**
 * Why a segment fails validate(), as netfilter's tcp_error() sees it
 * (net/netfilter/nf_conntrack_proto_tcp.c):
 *   - "truncated":        fewer than 20 bytes ("short packet")
 *   - "bad-data-offset":  data offset < 5 ("truncated packet")
 *   - "header-truncated": data offset * 4 is more than the segment ("truncated packet")
 */
export type TcpInvalid = "truncated" | "bad-data-offset" | "header-truncated";
export type TcpValidation = "ok" | TcpInvalid;

export class TcpView extends PacketView {
  validate(): TcpValidation {
    if (this.byteLength < TCP_MIN_HEADER_LENGTH) return "truncated";
    const doff = this.buf[this.offset + TCP_OFF_DATA_OFFSET]! >>> 4;
    if (doff < 5) return "bad-data-offset";
    if (doff << 2 > this.byteLength) return "header-truncated";
    return "ok";
  }

  // --- fields -----------------------------------------------------------------------------------

  get sourcePort(): number {
    return read16(this.buf, this.offset + TCP_OFF_SOURCE_PORT);
  }

  get destinationPort(): number {
    return read16(this.buf, this.offset + TCP_OFF_DESTINATION_PORT);
  }

  /** Sequence number, unsigned 32-bit. */
  get seq(): number {
    return read32(this.buf, this.offset + TCP_OFF_SEQ);
  }

  /** Acknowledgment number, unsigned 32-bit. */
  get ack(): number {
    return read32(this.buf, this.offset + TCP_OFF_ACK);
  }

  /** Data offset in 32-bit words. */
  get dataOffset(): number {
    return this.buf[this.offset + TCP_OFF_DATA_OFFSET]! >>> 4;
  }

  /** Header length in bytes, options included. */
  get headerLength(): number {
    return (this.buf[this.offset + TCP_OFF_DATA_OFFSET]! >>> 4) << 2;
  }

  /** The 4 bits between the data offset and the flags (reserved; the low one was ECN's NS). */
  get reserved(): number {
    return this.buf[this.offset + TCP_OFF_DATA_OFFSET]! & 0x0f;
  }

  /** The flags byte (CWR ECE URG ACK PSH RST SYN FIN); see TCP_FIN etc. */
  get flags(): number {
    return this.buf[this.offset + TCP_OFF_FLAGS]!;
  }

  get fin(): boolean {
    return (this.buf[this.offset + TCP_OFF_FLAGS]! & TCP_FIN) !== 0;
  }

  get syn(): boolean {
    return (this.buf[this.offset + TCP_OFF_FLAGS]! & TCP_SYN) !== 0;
  }

  get rst(): boolean {
    return (this.buf[this.offset + TCP_OFF_FLAGS]! & TCP_RST) !== 0;
  }

  get psh(): boolean {
    return (this.buf[this.offset + TCP_OFF_FLAGS]! & TCP_PSH) !== 0;
  }

  get ackFlag(): boolean {
    return (this.buf[this.offset + TCP_OFF_FLAGS]! & TCP_ACK) !== 0;
  }

  get urg(): boolean {
    return (this.buf[this.offset + TCP_OFF_FLAGS]! & TCP_URG) !== 0;
  }

  get ece(): boolean {
    return (this.buf[this.offset + TCP_OFF_FLAGS]! & TCP_ECE) !== 0;
  }

  get cwr(): boolean {
    return (this.buf[this.offset + TCP_OFF_FLAGS]! & TCP_CWR) !== 0;
  }

  get window(): number {
    return read16(this.buf, this.offset + TCP_OFF_WINDOW);
  }

  get checksum(): number {
    return read16(this.buf, this.offset + TCP_OFF_CHECKSUM);
  }

  get urgentPointer(): number {
    return read16(this.buf, this.offset + TCP_OFF_URGENT);
  }

  /** Where the options start in `buf`. */
  get optionsOffset(): number {
    return this.offset + TCP_MIN_HEADER_LENGTH;
  }

  /** Bytes of options (data offset * 4 - 20; 0 when there are none or the offset is invalid). */
  get optionsLength(): number {
    const hlen = this.headerLength;
    return hlen > TCP_MIN_HEADER_LENGTH ? hlen - TCP_MIN_HEADER_LENGTH : 0;
  }

  /** Option byte `i` (0-based within the options). */
  optionByte(i: number): number {
    return this.buf[this.offset + TCP_MIN_HEADER_LENGTH + i] ?? 0;
  }

  /** Where the payload starts in `buf`. */
  get payloadOffset(): number {
    return this.offset + this.headerLength;
  }

  /** Payload bytes: the segment length minus the header length (0 if that is negative). */
  get payloadLength(): number {
    const n = this.byteLength - this.headerLength;
    return n > 0 ? n : 0;
  }

  // --- checksum -------------------------------------------------------------------------------

  /** The checksum the segment should carry, for the given addresses (field counted as zero). */
  computeChecksum(src: number, dst: number): number {
    const len = this.byteLength;
    let sum = pseudoHeaderSum(src, dst, IPPROTO_TCP, len);
    sum = sumBytes(this.buf, this.offset, TCP_OFF_CHECKSUM, sum);
    sum = sumBytes(this.buf, this.offset + TCP_OFF_CHECKSUM + 2, len - TCP_OFF_CHECKSUM - 2, sum);
    return ~foldSum(sum) & 0xffff;
  }

  verifyChecksum(src: number, dst: number): boolean {
    const len = this.byteLength;
    return verifyChecksum(this.buf, this.offset, len, pseudoHeaderSum(src, dst, IPPROTO_TCP, len));
  }

  /** Recomputes the checksum from scratch and stores it. */
  fillChecksum(src: number, dst: number): void {
    write16(this.buf, this.offset + TCP_OFF_CHECKSUM, this.computeChecksum(src, dst));
  }

  setChecksum(value: number): void {
    write16(this.buf, this.offset + TCP_OFF_CHECKSUM, value);
  }

  /**
   * Fixes the checksum for an IP address rewrite (the pseudo-header part), like the kernel's
   * inet_proto_csum_replace4(..., pseudohdr=true). Call it with the old and new address whenever
   * NAT rewrites the source or destination of the IP header.
   */
  updateForAddressChange(oldAddr: number, newAddr: number): void {
    const at = this.offset + TCP_OFF_CHECKSUM;
    write16(this.buf, at, checksumUpdate32(read16(this.buf, at), oldAddr >>> 0, newAddr >>> 0));
  }

  // --- setters that keep the checksum right (RFC 1624) ---------------------------------------

  setSourcePort(port: number): void {
    this.replaceWord(TCP_OFF_SOURCE_PORT, port & 0xffff);
  }

  setDestinationPort(port: number): void {
    this.replaceWord(TCP_OFF_DESTINATION_PORT, port & 0xffff);
  }

  setSeq(seq: number): void {
    this.replace32(TCP_OFF_SEQ, seq >>> 0);
  }

  setAck(ack: number): void {
    this.replace32(TCP_OFF_ACK, ack >>> 0);
  }

  setWindow(window: number): void {
    this.replaceWord(TCP_OFF_WINDOW, window & 0xffff);
  }

  /** Sets the flags byte (the data offset and reserved bits are kept). */
  setFlags(flags: number): void {
    const at = this.offset + TCP_OFF_DATA_OFFSET;
    this.replaceWord(TCP_OFF_DATA_OFFSET, (read16(this.buf, at) & 0xff00) | (flags & 0xff));
  }

  setUrgentPointer(pointer: number): void {
    this.replaceWord(TCP_OFF_URGENT, pointer & 0xffff);
  }

  private replaceWord(fieldOffset: number, value: number): void {
    const at = this.offset + fieldOffset;
    const old = read16(this.buf, at);
    write16(this.buf, at, value);
    const checkAt = this.offset + TCP_OFF_CHECKSUM;
    write16(this.buf, checkAt, checksumUpdate16(read16(this.buf, checkAt), old, value));
  }

  private replace32(fieldOffset: number, value: number): void {
    const at = this.offset + fieldOffset;
    const old = read32(this.buf, at);
    write32(this.buf, at, value);
    const checkAt = this.offset + TCP_OFF_CHECKSUM;
    write16(this.buf, checkAt, checksumUpdate32(read16(this.buf, checkAt), old, value));
  }
}
