// The Internet checksum (RFC 1071) and its incremental update (RFC 1624), over plain byte arrays.
//
// Vocabulary used throughout src/core/packet:
//   - a "sum" is a one's-complement sum of 16-bit big-endian words, not yet complemented. Sums
//     may be left unfolded (larger than 0xffff) while they are being accumulated; foldSum()
//     brings one back to 16 bits with end-around carry.
//   - a "checksum" is the complement of a folded sum, the value stored in a header field.
// Nothing here allocates; all values are plain numbers.

/** Folds an unfolded one's-complement sum to 16 bits (end-around carry). */
export function foldSum(sum: number): number {
  // Sums stay far below 2^53, so plain arithmetic is exact; two rounds suffice below 2^32 but
  // a loop keeps it correct for any accumulated value.
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/**
 * Adds the 16-bit big-endian words of buf[offset, offset+length) to `initial` and returns the
 * unfolded sum. An odd final byte counts as the high byte of a word padded with zero.
 */
export function sumBytes(buf: Uint8Array, offset: number, length: number, initial = 0): number {
  let sum = initial;
  if (!(length > 0)) return sum;
  const end = offset + length;
  const evenEnd = end - (length & 1);
  // No folding inside the loop: even 2^32 bytes of 0xff sum to about 2^47, well inside the
  // range where numbers are exact integers.
  for (let i = offset; i < evenEnd; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (length & 1) sum += buf[end - 1]! << 8;
  return sum;
}

/** The Internet checksum of buf[offset, offset+length), starting from the (unfolded) sum `initial`. */
export function internetChecksum(buf: Uint8Array, offset: number, length: number, initial = 0): number {
  return ~foldSum(sumBytes(buf, offset, length, initial)) & 0xffff;
}

/**
 * True when a range that includes its own checksum field sums to all ones (i.e. it verifies).
 * `initial` is the pseudo-header sum for TCP/UDP, 0 otherwise.
 */
export function verifyChecksum(buf: Uint8Array, offset: number, length: number, initial = 0): boolean {
  return foldSum(sumBytes(buf, offset, length, initial)) === 0xffff;
}

/**
 * The (unfolded) sum of the IPv4 pseudo-header TCP and UDP checksums cover: source, destination,
 * zero+protocol, and the transport length. Addresses are unsigned 32-bit numbers.
 */
export function pseudoHeaderSum(src: number, dst: number, protocol: number, length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + (protocol & 0xff) + (length & 0xffff);
}

/**
 * RFC 1624 eqn. 3: the new checksum after one 16-bit word of the covered data changes from
 * `oldWord` to `newWord`: HC' = ~(~HC + ~m + m'). Unlike eqn. 2 it never yields the
 * "negative zero" a full recomputation would not.
 */
export function checksumUpdate16(check: number, oldWord: number, newWord: number): number {
  const sum = (~check & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff);
  return ~foldSum(sum) & 0xffff;
}

/** RFC 1624 eqn. 3 for a 32-bit field (an IPv4 address) that changes from `oldValue` to `newValue`. */
export function checksumUpdate32(check: number, oldValue: number, newValue: number): number {
  const sum =
    (~check & 0xffff) +
    (~oldValue >>> 16) + (~oldValue & 0xffff) +
    (newValue >>> 16) + (newValue & 0xffff);
  return ~foldSum(sum) & 0xffff;
}

/**
 * Like checksumUpdate16 for a 16-bit value stored at an odd offset from the start of the
 * checksummed range: its bytes straddle two words, so it counts byte-swapped.
 */
export function checksumUpdate16Odd(check: number, oldWord: number, newWord: number): number {
  return checksumUpdate16(check, swap16(oldWord), swap16(newWord));
}

/** Swaps the two bytes of a 16-bit value. */
export function swap16(word: number): number {
  return ((word & 0xff) << 8) | ((word >>> 8) & 0xff);
}

/**
 * UDP's rules on top of the incremental update (RFC 768; Linux nf_nat udp_manip_pkt): a zero
 * checksum means the sender computed none, so it stays zero; a computed zero is sent as 0xffff.
 */
export function udpChecksumUpdate16(check: number, oldWord: number, newWord: number): number {
  if (check === 0) return 0;
  return checksumUpdate16(check, oldWord, newWord) || 0xffff;
}

/** UDP variant of checksumUpdate32; see udpChecksumUpdate16. */
export function udpChecksumUpdate32(check: number, oldValue: number, newValue: number): number {
  if (check === 0) return 0;
  return checksumUpdate32(check, oldValue, newValue) || 0xffff;
}

/** Reads the big-endian 16-bit word at buf[offset]. */
export function read16(buf: Uint8Array, offset: number): number {
  return (buf[offset]! << 8) | buf[offset + 1]!;
}

/** Reads the big-endian unsigned 32-bit word at buf[offset]. */
export function read32(buf: Uint8Array, offset: number): number {
  return ((buf[offset]! << 24) | (buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!) >>> 0;
}

/** Writes `value` as a big-endian 16-bit word at buf[offset]. */
export function write16(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = (value >>> 8) & 0xff;
  buf[offset + 1] = value & 0xff;
}

/** Writes `value` as a big-endian 32-bit word at buf[offset]. */
export function write32(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = (value >>> 24) & 0xff;
  buf[offset + 1] = (value >>> 16) & 0xff;
  buf[offset + 2] = (value >>> 8) & 0xff;
  buf[offset + 3] = value & 0xff;
}
