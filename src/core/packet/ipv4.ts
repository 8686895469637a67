// A zero-copy view of an IPv4 header (RFC 791) over a byte array.
//
// One Ipv4View is meant to be created once and re-pointed at each packet with reset(); getters,
// setters and validate() allocate nothing. Getters do not check bounds: call validate() (or
// validateQuoted() for a header quoted inside an ICMP error) first. Reading past the end of the
// array gives 0 and writing past it is ignored, so bad input never throws.

import {
  checksumUpdate16,
  checksumUpdate32,
  foldSum,
  internetChecksum,
  read16,
  read32,
  sumBytes,
  verifyChecksum,
  write16,
  write32,
} from "./checksum.ts";
import { PacketView } from "./view.ts";

export const IPV4_MIN_HEADER_LENGTH = 20;
export const IPV4_MAX_HEADER_LENGTH = 60;

/** Bits of the 16-bit flags/fragment-offset field. */
export const IPV4_FLAG_RESERVED = 0x8000;
export const IPV4_FLAG_DF = 0x4000;
export const IPV4_FLAG_MF = 0x2000;
export const IPV4_FRAGMENT_OFFSET_MASK = 0x1fff;

/** Header field offsets. */
export const IPV4_OFF_VERSION_IHL = 0;
export const IPV4_OFF_TOS = 1;
export const IPV4_OFF_TOTAL_LENGTH = 2;
export const IPV4_OFF_ID = 4;
export const IPV4_OFF_FLAGS_FRAGMENT = 6;
export const IPV4_OFF_TTL = 8;
export const IPV4_OFF_PROTOCOL = 9;
export const IPV4_OFF_CHECKSUM = 10;
export const IPV4_OFF_SOURCE = 12;
export const IPV4_OFF_DESTINATION = 16;

/**
 * Why a packet fails validate(), in the order Linux's ip_rcv_core() checks (net/ipv4/ip_input.c).
 * Every reason is a drop there; the comment names the SNMP counter the kernel bumps.
 *   - "truncated":              fewer than 20 bytes (pskb_may_pull fails) — InHdrErrors
 *   - "bad-ihl":                IHL < 5 — InHdrErrors (checked in the same test as the version,
 *                               IHL first)
 *   - "bad-version":            version is not 4 — InHdrErrors
 *   - "header-truncated":       IHL*4 bytes are not all there — InHdrErrors
 *   - "bad-checksum":           the header checksum does not verify — InCsumErrors + InHdrErrors
 *   - "total-length-too-long":  total length exceeds the bytes received — InTruncatedPkts
 *   - "total-length-too-short": total length is smaller than IHL*4 — InHdrErrors
 * After "ok" the kernel trims the packet to the total length (link-layer padding).
 */
export type Ipv4Invalid =
  | "truncated"
  | "bad-ihl"
  | "bad-version"
  | "header-truncated"
  | "bad-checksum"
  | "total-length-too-long"
  | "total-length-too-short";
export type Ipv4Validation = "ok" | Ipv4Invalid;

/**
 * Why a header quoted inside an ICMP error cannot be used (see validateQuoted()). Such a quote
 * is usually cut short, so neither the total length nor the checksum is checked.
 *   - "truncated":        fewer than 20 bytes quoted
 *   - "bad-ihl":          IHL < 5
 *   - "bad-version":      version is not 4
 *   - "header-truncated": IHL*4 bytes are not all quoted
 */
export type Ipv4QuotedInvalid = "truncated" | "bad-ihl" | "bad-version" | "header-truncated";
export type Ipv4QuotedValidation = "ok" | Ipv4QuotedInvalid;

/**
 * The checksum test of a 20-byte header (no options, nearly every packet), unrolled: ten words
 * summed in integer registers, then folded, instead of the general loop.
 */
function plainHeaderSumsToOnes(b: Uint8Array, o: number): boolean {
  let sum =
    ((b[o]! << 8) | b[o + 1]!) + ((b[o + 2]! << 8) | b[o + 3]!) + ((b[o + 4]! << 8) | b[o + 5]!) +
    ((b[o + 6]! << 8) | b[o + 7]!) + ((b[o + 8]! << 8) | b[o + 9]!) + ((b[o + 10]! << 8) | b[o + 11]!) +
    ((b[o + 12]! << 8) | b[o + 13]!) + ((b[o + 14]! << 8) | b[o + 15]!) + ((b[o + 16]! << 8) | b[o + 17]!) +
    ((b[o + 18]! << 8) | b[o + 19]!);
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return sum === 0xffff;
}

export class Ipv4View extends PacketView {
  // `byteLength` is what the kernel calls skb->len: the bytes received, which may exceed the
  // total length (link-layer padding) or fall short of it (truncation).

  // --- validation -----------------------------------------------------------------------------

  /** Checks the header as ip_rcv_core() does, without throwing; see Ipv4Invalid. */
  validate(): Ipv4Validation {
    const len = this.byteLength;
    if (len < IPV4_MIN_HEADER_LENGTH) return "truncated";
    const first = this.buf[this.offset]!;
    const ihl = first & 0x0f;
    if (ihl < 5) return "bad-ihl";
    if (first >>> 4 !== 4) return "bad-version";
    const hlen = ihl << 2;
    if (len < hlen) return "header-truncated";
    if (!(hlen === IPV4_MIN_HEADER_LENGTH ? plainHeaderSumsToOnes(this.buf, this.offset) : verifyChecksum(this.buf, this.offset, hlen))) {
      return "bad-checksum";
    }
    const total = read16(this.buf, this.offset + IPV4_OFF_TOTAL_LENGTH);
    if (total > len) return "total-length-too-long";
    if (total < hlen) return "total-length-too-short";
    return "ok";
  }

  /**
   * Checks a header quoted in an ICMP error: enough bytes for the header, IHL >= 5, version 4.
   * Total length and checksum are not checked (the quote is normally truncated).
   */
  validateQuoted(): Ipv4QuotedValidation {
    const len = this.byteLength;
    if (len < IPV4_MIN_HEADER_LENGTH) return "truncated";
    const first = this.buf[this.offset]!;
    const ihl = first & 0x0f;
    if (ihl < 5) return "bad-ihl";
    if (first >>> 4 !== 4) return "bad-version";
    if (len < ihl << 2) return "header-truncated";
    return "ok";
  }

  // --- fields -----------------------------------------------------------------------------------

  get version(): number {
    return this.buf[this.offset]! >>> 4;
  }

  /** Header length in 32-bit words (5 to 15). */
  get ihl(): number {
    return this.buf[this.offset]! & 0x0f;
  }

  /** Header length in bytes, options included (IHL * 4). */
  get headerLength(): number {
    return (this.buf[this.offset]! & 0x0f) << 2;
  }

  /** The whole type-of-service byte (DSCP << 2 | ECN). */
  get tos(): number {
    return this.buf[this.offset + IPV4_OFF_TOS]!;
  }

  get dscp(): number {
    return this.buf[this.offset + IPV4_OFF_TOS]! >>> 2;
  }

  get ecn(): number {
    return this.buf[this.offset + IPV4_OFF_TOS]! & 0x03;
  }

  get totalLength(): number {
    return read16(this.buf, this.offset + IPV4_OFF_TOTAL_LENGTH);
  }

  get id(): number {
    return read16(this.buf, this.offset + IPV4_OFF_ID);
  }

  /** The raw 16-bit flags + fragment offset field. */
  get flagsFragment(): number {
    return read16(this.buf, this.offset + IPV4_OFF_FLAGS_FRAGMENT);
  }

  /** The three flag bits (reserved, DF, MF) as a number 0-7. */
  get flags(): number {
    return this.buf[this.offset + IPV4_OFF_FLAGS_FRAGMENT]! >>> 5;
  }

  get dontFragment(): boolean {
    return (this.buf[this.offset + IPV4_OFF_FLAGS_FRAGMENT]! & 0x40) !== 0;
  }

  get moreFragments(): boolean {
    return (this.buf[this.offset + IPV4_OFF_FLAGS_FRAGMENT]! & 0x20) !== 0;
  }

  /** Fragment offset in 8-byte units, as in the header. */
  get fragmentOffset(): number {
    return read16(this.buf, this.offset + IPV4_OFF_FLAGS_FRAGMENT) & IPV4_FRAGMENT_OFFSET_MASK;
  }

  /** Fragment offset in bytes. */
  get fragmentByteOffset(): number {
    return (read16(this.buf, this.offset + IPV4_OFF_FLAGS_FRAGMENT) & IPV4_FRAGMENT_OFFSET_MASK) << 3;
  }

  /** True for any fragment (MF set or a non-zero offset), like the kernel's ip_is_fragment(). */
  get isFragment(): boolean {
    return (read16(this.buf, this.offset + IPV4_OFF_FLAGS_FRAGMENT) & (IPV4_FLAG_MF | IPV4_FRAGMENT_OFFSET_MASK)) !== 0;
  }

  /**
   * True when the fragment offset is zero, so the transport header is here: unfragmented packets
   * included. iptables' `-f` matches exactly the packets where this is false.
   */
  get isFirstFragment(): boolean {
    return (read16(this.buf, this.offset + IPV4_OFF_FLAGS_FRAGMENT) & IPV4_FRAGMENT_OFFSET_MASK) === 0;
  }

  get ttl(): number {
    return this.buf[this.offset + IPV4_OFF_TTL]!;
  }

  get protocol(): number {
    return this.buf[this.offset + IPV4_OFF_PROTOCOL]!;
  }

  get headerChecksum(): number {
    return read16(this.buf, this.offset + IPV4_OFF_CHECKSUM);
  }

  /** Source address, unsigned 32-bit. */
  get source(): number {
    return read32(this.buf, this.offset + IPV4_OFF_SOURCE);
  }

  /** Destination address, unsigned 32-bit. */
  get destination(): number {
    return read32(this.buf, this.offset + IPV4_OFF_DESTINATION);
  }

  /** Where the options start in `buf` (always offset + 20). */
  get optionsOffset(): number {
    return this.offset + IPV4_MIN_HEADER_LENGTH;
  }

  /** Bytes of options (IHL * 4 - 20; 0 when IHL is 5 or invalid). */
  get optionsLength(): number {
    const hlen = (this.buf[this.offset]! & 0x0f) << 2;
    return hlen > IPV4_MIN_HEADER_LENGTH ? hlen - IPV4_MIN_HEADER_LENGTH : 0;
  }

  /** Option byte `i` (0-based within the options). */
  optionByte(i: number): number {
    return this.buf[this.offset + IPV4_MIN_HEADER_LENGTH + i] ?? 0;
  }

  /** The options as a subarray sharing memory with the packet. Allocates: not for the fast path. */
  optionsBytes(): Uint8Array {
    const start = this.offset + IPV4_MIN_HEADER_LENGTH;
    return this.buf.subarray(start, start + this.optionsLength);
  }

  /** Where the payload (the transport header, for a first fragment) starts in `buf`. */
  get payloadOffset(): number {
    return this.offset + ((this.buf[this.offset]! & 0x0f) << 2);
  }

  /** Payload bytes according to the header: total length - IHL * 4 (0 if that is negative). */
  get payloadLength(): number {
    const n = this.totalLength - this.headerLength;
    return n > 0 ? n : 0;
  }

  // --- checksum -------------------------------------------------------------------------------

  /** The checksum the header should carry (computed with the checksum field as zero). */
  computeHeaderChecksum(): number {
    const start = this.offset;
    const sum = sumBytes(this.buf, start, IPV4_OFF_CHECKSUM);
    return ~foldSum(sumBytes(this.buf, start + IPV4_OFF_CHECKSUM + 2, this.headerLength - IPV4_OFF_CHECKSUM - 2, sum)) & 0xffff;
  }

  verifyHeaderChecksum(): boolean {
    return verifyChecksum(this.buf, this.offset, this.headerLength);
  }

  /** Recomputes the header checksum from scratch and stores it. */
  fillHeaderChecksum(): void {
    write16(this.buf, this.offset + IPV4_OFF_CHECKSUM, 0);
    write16(this.buf, this.offset + IPV4_OFF_CHECKSUM, internetChecksum(this.buf, this.offset, this.headerLength));
  }

  /** Stores a checksum as given (no recomputation). */
  setHeaderChecksum(value: number): void {
    write16(this.buf, this.offset + IPV4_OFF_CHECKSUM, value);
  }

  // --- setters that keep the header checksum right (RFC 1624) --------------------------------

  setTtl(ttl: number): void {
    const at = this.offset + IPV4_OFF_TTL;
    const oldWord = read16(this.buf, at);
    const newWord = ((ttl & 0xff) << 8) | (oldWord & 0xff);
    this.buf[at] = ttl & 0xff;
    this.replaceWordInChecksum(oldWord, newWord);
  }

  /** Decrements the TTL (as forwarding does) and returns the new value; 0 stays 0. */
  decrementTtl(): number {
    const ttl = this.ttl;
    if (ttl === 0) return 0;
    this.setTtl(ttl - 1);
    return ttl - 1;
  }

  setProtocol(protocol: number): void {
    const at = this.offset + IPV4_OFF_TTL;
    const oldWord = read16(this.buf, at);
    const newWord = (oldWord & 0xff00) | (protocol & 0xff);
    this.buf[at + 1] = protocol & 0xff;
    this.replaceWordInChecksum(oldWord, newWord);
  }

  /** Sets the whole TOS byte. */
  setTos(tos: number): void {
    const at = this.offset;
    const oldWord = read16(this.buf, at);
    const newWord = (oldWord & 0xff00) | (tos & 0xff);
    this.buf[at + 1] = tos & 0xff;
    this.replaceWordInChecksum(oldWord, newWord);
  }

  setDscp(dscp: number): void {
    this.setTos(((dscp & 0x3f) << 2) | this.ecn);
  }

  setEcn(ecn: number): void {
    this.setTos((this.tos & 0xfc) | (ecn & 0x03));
  }

  setTotalLength(length: number): void {
    this.replaceWord(IPV4_OFF_TOTAL_LENGTH, length & 0xffff);
  }

  setId(id: number): void {
    this.replaceWord(IPV4_OFF_ID, id & 0xffff);
  }

  /** Sets the raw flags + fragment offset field. */
  setFlagsFragment(value: number): void {
    this.replaceWord(IPV4_OFF_FLAGS_FRAGMENT, value & 0xffff);
  }

  setDontFragment(on: boolean): void {
    const old = this.flagsFragment;
    this.replaceWord(IPV4_OFF_FLAGS_FRAGMENT, on ? old | IPV4_FLAG_DF : old & ~IPV4_FLAG_DF);
  }

  /**
   * Rewrites the source address. Only the IP header checksum is fixed here: the transport
   * checksum covers the address too (pseudo-header), so call the TCP/UDP view's
   * updateForAddressChange(old, new) as well.
   */
  setSource(addr: number): void {
    this.replaceAddress(IPV4_OFF_SOURCE, addr >>> 0);
  }

  /** Rewrites the destination address; see setSource() about the transport checksum. */
  setDestination(addr: number): void {
    this.replaceAddress(IPV4_OFF_DESTINATION, addr >>> 0);
  }

  private replaceWord(fieldOffset: number, value: number): void {
    const at = this.offset + fieldOffset;
    const oldWord = read16(this.buf, at);
    write16(this.buf, at, value);
    this.replaceWordInChecksum(oldWord, value);
  }

  private replaceAddress(fieldOffset: number, addr: number): void {
    const at = this.offset + fieldOffset;
    const oldAddr = read32(this.buf, at);
    write32(this.buf, at, addr);
    const checkAt = this.offset + IPV4_OFF_CHECKSUM;
    write16(this.buf, checkAt, checksumUpdate32(read16(this.buf, checkAt), oldAddr, addr));
  }

  private replaceWordInChecksum(oldWord: number, newWord: number): void {
    const checkAt = this.offset + IPV4_OFF_CHECKSUM;
    write16(this.buf, checkAt, checksumUpdate16(read16(this.buf, checkAt), oldWord, newWord));
  }
}
