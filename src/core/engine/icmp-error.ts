// ICMP errors the host itself sends about a packet it is handling (the kernel's icmp_send): REJECT's
// destination-unreachable answers and ip_forward's redirects are both built here. Checked against
// Linux 6.18 with veth pairs between scratch namespaces: addresses, TOS, TTL, DF, ID, quote length.
import type { PacketContext } from "./packet-context.ts";
import { AddrType } from "../host/host-view.ts";
import { IPPROTO_ICMP } from "../net/protocols.ts";
import { internetChecksum, write16, write32 } from "../packet/checksum.ts";
import { ICMP_MAX_TYPE, isIcmpError } from "../packet/icmp.ts";

/** sysctl net.ipv4.ip_default_ttl: the TTL of the host's own answers (ip4_dst_hoplimit of a route without one). */
export const ICMP_ERROR_TTL = 64;
/** An ICMP error is at most 576 bytes (icmp_send's `room`, the MTU being larger). */
const ICMP_ERROR_MAX = 576;
const IP_HEADER = 20;
const ICMP_HEADER = 8;
/** IPTOS_PREC_INTERNETCONTROL and IPTOS_TOS_MASK: an ICMP error keeps the TOS bits and gets precedence 6. */
const PREC_INTERNETCONTROL = 0xc0;
const TOS_MASK = 0x1e;

/** The end of the IP packet in `ctx.buf`: the kernel has trimmed the skb to tot_len by now. */
export function packetEnd(ctx: PacketContext): number {
  return ctx.ip.offset + ctx.ip.totalLength;
}

/**
 * The packet was routed as broadcast or multicast (RTCF_BROADCAST / RTCF_MULTICAST on its route):
 * icmp_send answers neither.
 */
export function toBroadcastOrMulticast(ctx: PacketContext): boolean {
  return (ctx.host.addressType(ctx.destination) & (AddrType.BROADCAST | AddrType.MULTICAST)) !== 0;
}

/**
 * A source the kernel's input routing refuses as martian before any rule runs (0.0.0.0/8, multicast,
 * the limited broadcast): uptables' routing lets them through, so no error may answer them.
 */
export function martianSource(address: number): boolean {
  return address >>> 24 === 0 || address >>> 28 === 0xe || address === 0xffffffff;
}

/**
 * The source address of the ICMP error (__icmp_send): for a packet addressed to the host, the address
 * it was sent to; otherwise (forwarded, or sent by the host to elsewhere) the kernel leaves the
 * source to the routing of the error back to the sender, which picks the preferred source of that
 * route (with the default net.ipv4.icmp_errors_use_inbound_ifaddr=0, which uptables assumes). That is
 * usually the address of the interface the packet came in on, but not when the way back leaves by
 * another interface: Linux 6.18 answered a packet forwarded from veth A, whose source was routed via
 * veth B, from B's address. Null when there is no route back (the kernel sends nothing).
 */
function errorSource(ctx: PacketContext): number | null {
  const local = ctx.host.localRoute(ctx.destination);
  if (local !== null && local.type === "local") return ctx.destination;
  return ctx.host.outputSource(ctx.source);
}

/**
 * icmp_send: the ICMP error `type`/`code` about the packet in `ctx`, with `info` in the header's
 * second word (the gateway of a redirect, 0 for unreachables), or null when the kernel would send
 * none: a non-first fragment, a broadcast or multicast destination, a martian source, an ICMP error
 * (or an ICMP type above 18) as the offending packet, no way back.
 *
 * The error: TOS = the packet's TOS bits with precedence "internetwork control" (0x12 -> 0xd2), TTL
 * 64, no DF (the ICMP socket does no PMTU discovery), ID 0 where Linux picks an unpredictable one,
 * no IP options (Linux echoes record-route/timestamp/source-route options; uptables does not), then
 * the offending packet as it is at this hook (after DNAT, TTL already decremented when forwarding)
 * quoted from its IP header on, as much as keeps the error within 576 bytes -- more than the header
 * and 8 bytes RFC 792 asks for, as Linux does. Not modelled: ICMP rate limiting
 * (net.ipv4.icmp_ratelimit, icmp_msgs_per_sec), which would silence some unreachables.
 */
export function buildIcmpError(ctx: PacketContext, type: number, code: number, info: number): Uint8Array | null {
  if (ctx.isLaterFragment) return null;
  if (toBroadcastOrMulticast(ctx) || martianSource(ctx.source)) return null;
  const buf = ctx.buf;
  const start = ctx.ip.offset;
  const end = packetEnd(ctx);
  if (ctx.protocol === IPPROTO_ICMP) {
    // Never an error about an error (nor about a type the kernel does not know).
    if (ctx.transportOffset >= end) return null;
    const offendingType = buf[ctx.transportOffset]!;
    if (offendingType > ICMP_MAX_TYPE || isIcmpError(offendingType)) return null;
  }
  const source = errorSource(ctx);
  if (source === null) return null;

  const quote = Math.min(end - start, ICMP_ERROR_MAX - IP_HEADER - ICMP_HEADER);
  const total = IP_HEADER + ICMP_HEADER + quote;
  const out = new Uint8Array(total);
  out[0] = 0x45;
  out[1] = (ctx.ip.tos & TOS_MASK) | PREC_INTERNETCONTROL;
  write16(out, 2, total);
  // ID (4-5) 0, flags and fragment offset (6-7) 0.
  out[8] = ICMP_ERROR_TTL;
  out[9] = IPPROTO_ICMP;
  write32(out, 12, source);
  write32(out, 16, ctx.source);
  write16(out, 10, internetChecksum(out, 0, IP_HEADER));
  out[IP_HEADER] = type;
  out[IP_HEADER + 1] = code;
  // Checksum (2-3) filled below.
  write32(out, IP_HEADER + 4, info >>> 0);
  out.set(buf.subarray(start, start + quote), IP_HEADER + ICMP_HEADER);
  write16(out, IP_HEADER + 2, internetChecksum(out, IP_HEADER, ICMP_HEADER + quote));
  return out;
}
