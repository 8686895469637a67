// Packets for the engine fuzzer, written straight into a reusable buffer (no builder, no
// allocation per packet), and an independent reading of them: this file computes checksums and
// validity itself rather than through src/core/packet, so that the engine's views are checked
// against a second implementation.

export const PROTO_ICMP = 1;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;

export function rd16(b: Uint8Array, o: number): number {
  return ((b[o] ?? 0) << 8) | (b[o + 1] ?? 0);
}

export function rd32(b: Uint8Array, o: number): number {
  return (((b[o] ?? 0) << 24) | ((b[o + 1] ?? 0) << 16) | ((b[o + 2] ?? 0) << 8) | (b[o + 3] ?? 0)) >>> 0;
}

export function wr16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

export function wr32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

/** One's-complement sum of b[o, o+n) (odd last byte padded), folded to 16 bits. */
export function onesSum(b: Uint8Array, o: number, n: number, init = 0): number {
  let s = init;
  const end = o + n;
  let i = o;
  for (; i + 1 < end; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  if (i < end) s += b[i]! << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

function pseudo(src: number, dst: number, proto: number, len: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + len;
}

/** Fills the IPv4 header checksum of the header at `o`. */
export function fillIpChecksum(b: Uint8Array, o = 0): void {
  const hlen = (b[o]! & 0x0f) * 4;
  wr16(b, o + 10, 0);
  wr16(b, o + 10, ~onesSum(b, o, Math.max(hlen, 20)) & 0xffff);
}

/** The transport checksum offset for TCP/UDP/ICMP, else -1. */
function checksumOffset(proto: number): number {
  return proto === PROTO_TCP ? 16 : proto === PROTO_UDP ? 6 : proto === PROTO_ICMP ? 2 : -1;
}

/**
 * Fills the TCP/UDP/ICMP checksum of the packet at 0, over the transport length the IP header
 * gives (`segLen`), clamped to what is there.
 */
export function fillL4Checksum(b: Uint8Array, bufLen: number): void {
  const hlen = (b[0]! & 0x0f) * 4;
  const proto = b[9]!;
  const at = checksumOffset(proto);
  const segLen = Math.min(rd16(b, 2), bufLen) - hlen;
  if (at < 0 || segLen < at + 2) return;
  wr16(b, hlen + at, 0);
  const init = proto === PROTO_ICMP ? 0 : pseudo(rd32(b, 12), rd32(b, 16), proto, segLen);
  let c = ~onesSum(b, hlen, segLen, init) & 0xffff;
  if (proto === PROTO_UDP && c === 0) c = 0xffff;
  wr16(b, hlen + at, c);
}

/** What ip_rcv_core would say of the bytes (the engine's "ip-header" drop), independently. */
export function ipHeaderValid(b: Uint8Array, len: number): boolean {
  if (len < 20) return false;
  const ihl = b[0]! & 0x0f;
  if (ihl < 5 || b[0]! >>> 4 !== 4) return false;
  const hlen = ihl * 4;
  if (len < hlen) return false;
  if (onesSum(b, 0, hlen) !== 0xffff) return false;
  const total = rd16(b, 2);
  return total <= len && total >= hlen;
}

export const enum L4 {
  /** Not TCP/UDP/ICMP, or a later fragment: nothing to check. */
  None = 0,
  /** Header malformed (the engine drops it as "transport-header"). */
  Bad = 1,
  /** Header fine, checksum wrong. */
  BadChecksum = 2,
  /** Header fine and checksum right (for a first fragment the checksum cannot be judged). */
  Ok = 3,
}

/** The transport header of a packet whose IP header is valid, judged as the engine documents it. */
export function classifyL4(b: Uint8Array): { l4: L4; fragment: boolean } {
  const hlen = (b[0]! & 0x0f) * 4;
  const total = rd16(b, 2);
  const ff = rd16(b, 6);
  const offset = ff & 0x1fff;
  const fragment = (ff & 0x3fff) !== 0;
  if (offset !== 0) return { l4: L4.None, fragment };
  const proto = b[9]!;
  const seg = total - hlen;
  let ok: boolean;
  switch (proto) {
    case PROTO_TCP: {
      const doff = seg >= 20 ? b[hlen + 12]! >>> 4 : 0;
      ok = seg >= 20 && doff >= 5 && doff * 4 <= seg;
      break;
    }
    case PROTO_UDP: {
      const ulen = seg >= 8 ? rd16(b, hlen + 4) : 0;
      ok = seg >= 8 && ulen >= 8 && ulen <= seg;
      break;
    }
    case PROTO_ICMP:
      ok = seg >= 8 && b[hlen]! <= 18;
      break;
    default:
      return { l4: L4.None, fragment };
  }
  if (!ok) return { l4: L4.Bad, fragment };
  return { l4: l4ChecksumOk(b) ? L4.Ok : L4.BadChecksum, fragment };
}

/** Whether the transport checksum verifies over the segment the IP header gives. */
export function l4ChecksumOk(b: Uint8Array): boolean {
  const hlen = (b[0]! & 0x0f) * 4;
  const proto = b[9]!;
  const seg = rd16(b, 2) - hlen;
  if (proto === PROTO_ICMP) return onesSum(b, hlen, seg) === 0xffff;
  if (proto === PROTO_UDP && rd16(b, hlen + 6) === 0) return true;
  return onesSum(b, hlen, seg, pseudo(rd32(b, 12), rd32(b, 16), proto, seg)) === 0xffff;
}

export interface PacketFields {
  proto: number;
  src: number;
  dst: number;
  sport: number;
  dport: number;
  /** TCP flags, or ICMP type. */
  flags: number;
  /** ICMP code. */
  code: number;
  ttl: number;
}

/**
 * Writes a well-formed packet into `b` (IP options and transport options/payload as given by the
 * random source `r`) and returns its length. `quote` (for an ICMP error) is copied after the ICMP
 * header.
 */
export function writePacket(
  b: Uint8Array,
  f: PacketFields,
  ipOptions: number,
  l4Options: number,
  payload: number,
  r: () => number,
  quote?: Uint8Array,
  quoteLen = 0,
): number {
  const hlen = 20 + ipOptions;
  let l4len: number;
  if (f.proto === PROTO_TCP) l4len = 20 + l4Options + payload;
  else if (f.proto === PROTO_UDP) l4len = 8 + payload;
  else if (f.proto === PROTO_ICMP) l4len = 8 + (quote ? quoteLen : payload);
  else l4len = payload;
  const total = hlen + l4len;
  b[0] = 0x40 | (hlen >>> 2);
  b[1] = f.proto === PROTO_ICMP && quote ? 0xc0 : r() & 0xfc;
  wr16(b, 2, total);
  wr16(b, 4, r() & 0xffff);
  wr16(b, 6, r() & 1 ? 0x4000 : 0);
  b[8] = f.ttl;
  b[9] = f.proto;
  wr32(b, 12, f.src);
  wr32(b, 16, f.dst);
  for (let i = 20; i < hlen; i++) b[i] = r() & 1 ? 1 /* NOP */ : r() & 0xff;
  const l4 = hlen;
  if (f.proto === PROTO_TCP) {
    wr16(b, l4, f.sport);
    wr16(b, l4 + 2, f.dport);
    wr32(b, l4 + 4, r() >>> 0);
    wr32(b, l4 + 8, f.flags & 0x10 ? r() >>> 0 : 0);
    b[l4 + 12] = ((20 + l4Options) >>> 2) << 4;
    b[l4 + 13] = f.flags;
    wr16(b, l4 + 14, 65535);
    wr16(b, l4 + 18, 0);
    // options: an MSS option sometimes (TCPMSS reads it), else NOPs and random bytes
    let i = l4 + 20;
    if (l4Options >= 4 && r() & 1) {
      b[i] = 2;
      b[i + 1] = 4;
      wr16(b, i + 2, 536 + (r() & 0x3ff));
      i += 4;
    }
    for (; i < l4 + 20 + l4Options; i++) b[i] = r() & 3 ? 1 : r() & 0xff;
    for (let j = l4 + 20 + l4Options; j < total; j++) b[j] = r() & 0xff;
  } else if (f.proto === PROTO_UDP) {
    wr16(b, l4, f.sport);
    wr16(b, l4 + 2, f.dport);
    wr16(b, l4 + 4, l4len);
    for (let j = l4 + 8; j < total; j++) b[j] = r() & 0xff;
  } else if (f.proto === PROTO_ICMP) {
    b[l4] = f.flags;
    b[l4 + 1] = f.code;
    wr16(b, l4 + 4, f.sport); // identifier (queries) / unused-MTU-pointer (errors)
    wr16(b, l4 + 6, f.dport);
    if (quote) b.set(quote.subarray(0, quoteLen), l4 + 8);
    else for (let j = l4 + 8; j < total; j++) b[j] = r() & 0xff;
  } else {
    for (let j = l4; j < total; j++) b[j] = r() & 0xff;
  }
  if (f.proto === PROTO_UDP && r() % 16 === 0) wr16(b, l4 + 6, 0); // no checksum
  else fillL4Checksum(b, total);
  fillIpChecksum(b);
  return total;
}

export function hex(b: Uint8Array, len = b.length): string {
  let s = "";
  for (let i = 0; i < len; i++) s += (b[i] ?? 0).toString(16).padStart(2, "0");
  return s;
}

export function fromHex(s: string): Uint8Array {
  const out = new Uint8Array(s.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(i * 2, i * 2 + 2), 16);
  return out;
}
