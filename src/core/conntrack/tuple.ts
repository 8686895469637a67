// Tuples as conntrack keys them: (protocol, source, destination, "ports"), where ports packs the
// two 16-bit transport keys into one number: TCP/UDP source << 16 | destination; ICMP queries
// identifier << 16 | type << 8 | code (the kernel's tuple.src.u.icmp.id, dst.u.icmp.type/code).
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from "../net/protocols.ts";

export const ICMP_ECHO_REPLY = 0;
export const ICMP_ECHO = 8;

/** The reply type of each ICMP query type (the kernel's invmap in nf_conntrack_proto_icmp.c). */
const ICMP_REPLY_TYPE: Readonly<Record<number, number>> = { 8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 17: 18, 18: 17 };

/** Query types that may start a connection (icmp_new's valid_new). */
const ICMP_STARTS: ReadonlySet<number> = new Set([8, 13, 15, 17]);

export function icmpReplyType(type: number): number {
  return ICMP_REPLY_TYPE[type] ?? -1;
}

export function icmpStartsConnection(type: number): boolean {
  return ICMP_STARTS.has(type);
}

export function packPorts(source: number, destination: number): number {
  return ((source << 16) | destination) >>> 0;
}

export function packIcmp(id: number, type: number, code: number): number {
  return ((id << 16) | (type << 8) | code) >>> 0;
}

export function sourcePortOf(ports: number): number {
  return ports >>> 16;
}

export function destinationPortOf(ports: number): number {
  return ports & 0xffff;
}

/** The ports of the inverse tuple (the reply direction), or -1 for an ICMP type without a reply. */
export function invertPorts(protocol: number, ports: number): number {
  if (protocol === IPPROTO_ICMP) {
    const reply = icmpReplyType((ports >>> 8) & 0xff);
    if (reply < 0) return -1;
    return ((ports & 0xffff0000) | (reply << 8) | (ports & 0xff)) >>> 0;
  }
  return packPorts(ports & 0xffff, ports >>> 16);
}

/** Whether the protocol's tuples carry ports that NAT can change. */
export function hasPorts(protocol: number): boolean {
  return protocol === IPPROTO_TCP || protocol === IPPROTO_UDP || protocol === 132 || protocol === 33 || protocol === 136;
}
