// Builds whole IPv4 packets with correct checksums, for tests and the simulator. Not the fast
// path: it allocates, and throws on arguments no packet can have (a bad address string, a
// payload that does not fit).

import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from "../net/protocols.ts";
import { parseDottedQuad } from "../net/ipv4-address.ts";
import { write16, write32 } from "./checksum.ts";
import { ICMP_ECHO, ICMP_ECHO_REPLY, ICMP_HEADER_LENGTH, IcmpView } from "./icmp.ts";
import { IPV4_FLAG_DF, IPV4_FLAG_MF, IPV4_MIN_HEADER_LENGTH, Ipv4View } from "./ipv4.ts";
import { TCP_MIN_HEADER_LENGTH, TcpView } from "./tcp.ts";
import { UDP_HEADER_LENGTH, UdpView } from "./udp.ts";

/** An address as an unsigned 32-bit number or a dotted quad. */
export type AddressLike = number | string;

/** Parses a dotted quad ("192.0.2.1") to an unsigned 32-bit number; throws if it is not one. */
export function parseIPv4Address(text: string): number {
  const addr = parseDottedQuad(text);
  if (addr === null) throw new Error(`not an IPv4 address: ${JSON.stringify(text)}`);
  return addr;
}

function toAddress(addr: AddressLike): number {
  return typeof addr === "string" ? parseIPv4Address(addr) : addr >>> 0;
}

/** Fields of the IP header every builder takes. */
export interface Ipv4Options {
  src: AddressLike;
  dst: AddressLike;
  /** Default 64. */
  ttl?: number;
  /** Default 0. */
  id?: number;
  /** The whole TOS byte. Default 0. */
  tos?: number;
  /** Don't Fragment. Default false. */
  df?: boolean;
  /** More Fragments. Default false. */
  mf?: boolean;
  /** Fragment offset in 8-byte units. Default 0. */
  fragmentOffset?: number;
  /** IP options, zero-padded to a multiple of 4 bytes (at most 40). */
  ipOptions?: Uint8Array | readonly number[];
}

export interface RawIpv4Options extends Ipv4Options {
  protocol: number;
  /** Everything after the IP header, as is. */
  payload?: Uint8Array | readonly number[] | string;
}

export interface TcpOptions extends Ipv4Options {
  sport: number;
  dport: number;
  /** The flags byte (TCP_SYN | TCP_ACK ...). Default 0. */
  flags?: number;
  seq?: number;
  ack?: number;
  /** Default 65535. */
  window?: number;
  urgent?: number;
  /** TCP options, zero-padded (EOL) to a multiple of 4 bytes (at most 40). */
  options?: Uint8Array | readonly number[];
  payload?: Uint8Array | readonly number[] | string;
}

export interface UdpOptions extends Ipv4Options {
  sport: number;
  dport: number;
  payload?: Uint8Array | readonly number[] | string;
  /** false sends a zero checksum ("none"). Default true. */
  checksum?: boolean;
}

export interface IcmpEchoOptions extends Ipv4Options {
  /** true (default) for an echo request, false for a reply. */
  request?: boolean;
  identifier?: number;
  sequence?: number;
  payload?: Uint8Array | readonly number[] | string;
}

export interface IcmpErrorOptions {
  /** Default: the offending packet's destination (the host that refuses it). */
  src?: AddressLike;
  /** Default: the offending packet's source. */
  dst?: AddressLike;
  /** Default 64. */
  ttl?: number;
  id?: number;
  /** Default 0xc0 (precedence "internetwork control"), as Linux's icmp_send() sets it. */
  tos?: number;
  /** Bytes 4-7 of the ICMP header (next-hop MTU, pointer, gateway). Default 0. */
  rest?: number;
  /**
   * How many bytes of the offending packet to quote. Default: as Linux does, as much as keeps
   * the error within 576 bytes.
   */
  quoteLength?: number;
}

function bytesOf(data: Uint8Array | readonly number[] | string | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  if (typeof data === "string") return new TextEncoder().encode(data);
  return data instanceof Uint8Array ? data : Uint8Array.from(data);
}

function padded(data: Uint8Array | readonly number[] | undefined, what: string): Uint8Array {
  const raw = bytesOf(data);
  if (raw.length > 40) throw new Error(`${what} longer than 40 bytes`);
  const out = new Uint8Array((raw.length + 3) & ~3);
  out.set(raw);
  return out;
}

/** Builds an IPv4 packet around `payload` as given; the header checksum is filled in. */
export function buildIpv4(opts: RawIpv4Options): Uint8Array {
  const options = padded(opts.ipOptions, "IP options");
  const payload = bytesOf(opts.payload);
  const hlen = IPV4_MIN_HEADER_LENGTH + options.length;
  const total = hlen + payload.length;
  if (total > 0xffff) throw new Error(`packet of ${total} bytes is larger than 65535`);
  const buf = new Uint8Array(total);
  buf[0] = 0x40 | (hlen >>> 2);
  buf[1] = (opts.tos ?? 0) & 0xff;
  write16(buf, 2, total);
  write16(buf, 4, (opts.id ?? 0) & 0xffff);
  write16(
    buf,
    6,
    (opts.df ? IPV4_FLAG_DF : 0) | (opts.mf ? IPV4_FLAG_MF : 0) | ((opts.fragmentOffset ?? 0) & 0x1fff),
  );
  buf[8] = (opts.ttl ?? 64) & 0xff;
  buf[9] = opts.protocol & 0xff;
  write32(buf, 12, toAddress(opts.src));
  write32(buf, 16, toAddress(opts.dst));
  buf.set(options, IPV4_MIN_HEADER_LENGTH);
  buf.set(payload, hlen);
  new Ipv4View(buf).fillHeaderChecksum();
  return buf;
}

export function buildTcp(opts: TcpOptions): Uint8Array {
  const options = padded(opts.options, "TCP options");
  const payload = bytesOf(opts.payload);
  const hlen = TCP_MIN_HEADER_LENGTH + options.length;
  const segment = new Uint8Array(hlen + payload.length);
  write16(segment, 0, opts.sport & 0xffff);
  write16(segment, 2, opts.dport & 0xffff);
  write32(segment, 4, (opts.seq ?? 0) >>> 0);
  write32(segment, 8, (opts.ack ?? 0) >>> 0);
  segment[12] = (hlen >>> 2) << 4;
  segment[13] = (opts.flags ?? 0) & 0xff;
  write16(segment, 14, (opts.window ?? 65535) & 0xffff);
  write16(segment, 18, (opts.urgent ?? 0) & 0xffff);
  segment.set(options, TCP_MIN_HEADER_LENGTH);
  segment.set(payload, hlen);
  const packet = buildIpv4({ ...opts, protocol: IPPROTO_TCP, payload: segment });
  const ip = new Ipv4View(packet);
  new TcpView(packet, ip.payloadOffset, ip.payloadLength).fillChecksum(ip.source, ip.destination);
  return packet;
}

export function buildUdp(opts: UdpOptions): Uint8Array {
  const payload = bytesOf(opts.payload);
  const datagram = new Uint8Array(UDP_HEADER_LENGTH + payload.length);
  write16(datagram, 0, opts.sport & 0xffff);
  write16(datagram, 2, opts.dport & 0xffff);
  write16(datagram, 4, datagram.length & 0xffff);
  datagram.set(payload, UDP_HEADER_LENGTH);
  const packet = buildIpv4({ ...opts, protocol: IPPROTO_UDP, payload: datagram });
  if (opts.checksum !== false) {
    const ip = new Ipv4View(packet);
    new UdpView(packet, ip.payloadOffset, ip.payloadLength).fillChecksum(ip.source, ip.destination);
  }
  return packet;
}

export function buildIcmpEcho(opts: IcmpEchoOptions): Uint8Array {
  const payload = bytesOf(opts.payload);
  const message = new Uint8Array(ICMP_HEADER_LENGTH + payload.length);
  message[0] = opts.request === false ? ICMP_ECHO_REPLY : ICMP_ECHO;
  write16(message, 4, (opts.identifier ?? 0) & 0xffff);
  write16(message, 6, (opts.sequence ?? 0) & 0xffff);
  message.set(payload, ICMP_HEADER_LENGTH);
  return buildIcmpPacket(opts, message);
}

/**
 * Builds the ICMP error `type`/`code` about `offendingPacket` (a whole IPv4 packet), quoting its
 * header and the start of its payload, as a host or router would send it back to its source.
 */
export function buildIcmpError(
  type: number,
  code: number,
  offendingPacket: Uint8Array,
  opts: IcmpErrorOptions = {},
): Uint8Array {
  const offending = new Ipv4View(offendingPacket);
  const room = 576 - IPV4_MIN_HEADER_LENGTH - ICMP_HEADER_LENGTH;
  const quoteLength = Math.min(offendingPacket.length, opts.quoteLength ?? room);
  const message = new Uint8Array(ICMP_HEADER_LENGTH + quoteLength);
  message[0] = type & 0xff;
  message[1] = code & 0xff;
  write32(message, 4, (opts.rest ?? 0) >>> 0);
  message.set(offendingPacket.subarray(0, quoteLength), ICMP_HEADER_LENGTH);
  return buildIcmpPacket(
    {
      src: opts.src ?? offending.destination,
      dst: opts.dst ?? offending.source,
      ttl: opts.ttl,
      id: opts.id,
      tos: opts.tos ?? 0xc0,
    },
    message,
  );
}

function buildIcmpPacket(ip: Ipv4Options, message: Uint8Array): Uint8Array {
  const packet = buildIpv4({ ...ip, protocol: IPPROTO_ICMP, payload: message });
  const view = new Ipv4View(packet);
  new IcmpView(packet, view.payloadOffset, view.payloadLength).fillChecksum();
  return packet;
}
