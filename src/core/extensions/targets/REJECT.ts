// -j REJECT: drop the packet and answer with an ICMP error or a TCP reset (libipt_REJECT, ipt_REJECT,
// and the kernel's nf_reject_ipv4 / icmp_send that build the answer).
import { ParameterProblem } from "../../rules/errors.ts";
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from "../../net/protocols.ts";
import { defineTarget, type TargetFunction } from "../extension.ts";
import type { PacketContext } from "../../engine/packet-context.ts";
import { NF_DROP } from "../../engine/verdict.ts";
import { buildIcmpError, ICMP_ERROR_TTL, martianSource, packetEnd, toBroadcastOrMulticast } from "../../engine/icmp-error.ts";
import { internetChecksum, pseudoHeaderSum, read16, verifyChecksum, write16, write32 } from "../../packet/checksum.ts";
import {
  ICMP_DEST_UNREACH,
  ICMP_HOST_ANO,
  ICMP_HOST_UNREACH,
  ICMP_NET_ANO,
  ICMP_NET_UNREACH,
  ICMP_PKT_FILTERED,
  ICMP_PORT_UNREACH,
  ICMP_PROT_UNREACH,
} from "../../packet/icmp.ts";
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from "../../packet/tcp.ts";
import { asciiLower } from "./xtables-numbers.ts";

/** enum ipt_reject_with: the answer the kernel sends. */
export const IPT_ICMP_NET_UNREACHABLE = 0;
export const IPT_ICMP_HOST_UNREACHABLE = 1;
export const IPT_ICMP_PROT_UNREACHABLE = 2;
export const IPT_ICMP_PORT_UNREACHABLE = 3;
/** No longer accepted by iptables or the kernel. */
export const IPT_ICMP_ECHOREPLY = 4;
export const IPT_ICMP_NET_PROHIBITED = 5;
export const IPT_ICMP_HOST_PROHIBITED = 6;
export const IPT_TCP_RESET = 7;
export const IPT_ICMP_ADMIN_PROHIBITED = 8;

/** struct ipt_reject_info. */
export interface RejectTarget {
  with: number;
}

/** The reply types by their value: the name iptables prints and the alias it also accepts. */
export const REJECT_TYPES: readonly (readonly [number, string, string])[] = [
  [IPT_ICMP_NET_UNREACHABLE, "icmp-net-unreachable", "net-unreach"],
  [IPT_ICMP_HOST_UNREACHABLE, "icmp-host-unreachable", "host-unreach"],
  [IPT_ICMP_PROT_UNREACHABLE, "icmp-proto-unreachable", "proto-unreach"],
  [IPT_ICMP_PORT_UNREACHABLE, "icmp-port-unreachable", "port-unreach"],
  [IPT_ICMP_NET_PROHIBITED, "icmp-net-prohibited", "net-prohib"],
  [IPT_ICMP_HOST_PROHIBITED, "icmp-host-prohibited", "host-prohib"],
  [IPT_TCP_RESET, "tcp-reset", "tcp-rst"],
  [IPT_ICMP_ADMIN_PROHIBITED, "icmp-admin-prohibited", "admin-prohib"],
];

function rejectName(value: number): string {
  return REJECT_TYPES.find(([v]) => v === value)?.[1] ?? String(value);
}

export const rejectTarget = defineTarget<RejectTarget>({
  name: "REJECT",
  options: [{ name: "reject-with", hasArg: true }],
  init: () => ({ with: IPT_ICMP_PORT_UNREACHABLE }),
  parse(data, _option, arg, _inverted, ctx) {
    // Any leading part of a name or alias, in any case, picks the first type it fits ("" too).
    const wanted = asciiLower(arg!);
    for (const [value, name, alias] of REJECT_TYPES) {
      if (name.startsWith(wanted) || alias.startsWith(wanted)) {
        data.with = value;
        return;
      }
    }
    // The old echo-reply (any leading part of it) earns a word before the refusal.
    if ("echo-reply".startsWith(wanted) || "echoreply".startsWith(wanted)) ctx.warn?.("--reject-with echo-reply no longer supported\n");
    throw new ParameterProblem(`unknown reject type "${arg}"`);
  },
  compile(data): TargetFunction {
    if (data.with === IPT_TCP_RESET) {
      return (ctx) => {
        const reply = buildReset(ctx);
        if (reply !== null) ctx.replies.push(reply);
        return NF_DROP;
      };
    }
    const code = ICMP_CODES[data.with];
    // echo-reply is refused when the rule is loaded; were it here, the kernel would only drop.
    if (code === undefined) return () => NF_DROP;
    return (ctx) => {
      const reply = buildUnreachable(ctx, code);
      if (reply !== null) ctx.replies.push(reply);
      return NF_DROP;
    };
  },
  save: (data) => `--reject-with ${rejectName(data.with)}`,
  print: (data) => `reject-with ${rejectName(data.with)}`,
  tables: ["filter"],
  hooks: ["INPUT", "FORWARD", "OUTPUT"],
  // reject_tg_check, when the rule is added, in any chain (EINVAL).
  checkRule(data, ctx) {
    if (data.with === IPT_ICMP_ECHOREPLY) return { errno: "Invalid argument", reason: "REJECT: echo-reply is no longer supported" };
    if (data.with === IPT_TCP_RESET && (ctx.protocol !== IPPROTO_TCP || ctx.protocolInverted)) {
      return { errno: "Invalid argument", reason: "REJECT --reject-with tcp-reset is only valid with -p tcp" };
    }
    return null;
  },
});

// --- the answers ---------------------------------------------------------------------------------
//
// What the kernel sends, as net/ipv4/netfilter/nf_reject_ipv4.c and net/ipv4/icmp.c build it, and
// when it sends nothing (the packet is dropped all the same). Checked against Linux 6.18 with veth
// pairs between scratch namespaces: addresses, TOS, TTL, DF, ID, quote length, seq/ack, and the
// silence on bad checksums.

/** ipt_reject_with to the ICMP code of a destination-unreachable error (reject_tg's switch). */
const ICMP_CODES: Readonly<Record<number, number>> = {
  [IPT_ICMP_NET_UNREACHABLE]: ICMP_NET_UNREACH,
  [IPT_ICMP_HOST_UNREACHABLE]: ICMP_HOST_UNREACH,
  [IPT_ICMP_PROT_UNREACHABLE]: ICMP_PROT_UNREACH,
  [IPT_ICMP_PORT_UNREACHABLE]: ICMP_PORT_UNREACH,
  [IPT_ICMP_NET_PROHIBITED]: ICMP_NET_ANO,
  [IPT_ICMP_HOST_PROHIBITED]: ICMP_HOST_ANO,
  [IPT_ICMP_ADMIN_PROHIBITED]: ICMP_PKT_FILTERED,
};

/** sysctl net.ipv4.ip_default_ttl: the TTL of both answers (ip4_dst_hoplimit of a route without one). */
export const REJECT_TTL = ICMP_ERROR_TTL;
const IP_HEADER = 20;
const TCP_HEADER = 20;
const IP_DF = 0x4000;

const IPPROTO_DCCP = 33;
const IPPROTO_GRE = 47;
const IPPROTO_ESP = 50;
const IPPROTO_AH = 51;
const IPPROTO_SCTP = 132;
const IPPROTO_UDPLITE = 136;

/**
 * Whether the kernel could look at the packet's checksum at all. Packets the host itself sent
 * (OUTPUT, or back in through lo) carry a checksum still to be filled by offload (CHECKSUM_PARTIAL)
 * or already vouched for (CHECKSUM_UNNECESSARY), so nf_ip_checksum() and skb_csum_unnecessary()
 * let them through unchecked; everything from outside is checked (a TUN device gives CHECKSUM_NONE).
 */
function checksumTrusted(ctx: PacketContext): boolean {
  return ctx.hook === "OUTPUT" || ctx.inInterface === "lo";
}

/**
 * nf_ip_checksum() for TCP, or for any protocol in nf_send_unreach(): true when it verifies.
 * For a protocol without a pseudo-header the kernel sums the whole packet from the IP header on
 * (which, being valid, adds nothing), so for an unknown protocol the payload itself must sum to
 * zero: Linux answers `-p 253` packets with proto-unreachable only when their bytes happen to
 * (an all-zero payload does, random data does not; seen on Linux 6.18).
 */
function checksumVerifies(ctx: PacketContext): boolean {
  const end = packetEnd(ctx);
  const start = ctx.transportOffset;
  switch (ctx.protocol) {
    case IPPROTO_TCP:
    case IPPROTO_UDP: {
      const length = end - start;
      return verifyChecksum(ctx.buf, start, length, pseudoHeaderSum(ctx.ip.source, ctx.ip.destination, ctx.protocol, length));
    }
    default:
      return verifyChecksum(ctx.buf, ctx.ip.offset, end - ctx.ip.offset);
  }
}

/**
 * nf_reject_verify_csum(): the protocols whose checksum nf_send_unreach checks before answering. UDP
 * without a checksum, and protocols whose integrity is not a 16-bit one's complement sum of the whole
 * payload, are answered unchecked.
 */
function unreachChecksumApplies(ctx: PacketContext): boolean {
  switch (ctx.protocol) {
    case IPPROTO_UDP:
      // A UDP header too short to read counts as "checked" in the kernel (and then fails the sum).
      return !ctx.hasTransport || read16(ctx.buf, ctx.transportOffset + 6) !== 0;
    case IPPROTO_GRE:
    case IPPROTO_AH:
    case IPPROTO_ESP:
    case IPPROTO_SCTP:
    case IPPROTO_UDPLITE:
    case IPPROTO_DCCP:
      return false;
    default:
      return true;
  }
}

/**
 * nf_send_unreach: the ICMP destination-unreachable error with `code` (built by icmp_send, see
 * engine/icmp-error.ts), or null when the kernel would send none: besides icmp_send's own reasons,
 * a checksum that does not verify.
 */
export function buildUnreachable(ctx: PacketContext, code: number): Uint8Array | null {
  if (!ctx.isLaterFragment && !checksumTrusted(ctx) && unreachChecksumApplies(ctx) && !checksumVerifies(ctx)) return null;
  return buildIcmpError(ctx, ICMP_DEST_UNREACH, code, 0);
}

/**
 * nf_send_reset: the TCP RST answering the packet, or null when the kernel sends none: not TCP, a
 * non-first fragment, a header too short, a RST (never a RST for a RST), a TCP checksum that does
 * not verify, a broadcast or multicast destination, no route back.
 *
 * The RST: from the packet's destination (even when forwarding: it stands in for the host the packet
 * was for) to its source, ports swapped, TOS 0, ID 0, DF, TTL 64, a bare 20-byte header with window
 * 0. When the packet had ACK set, seq = its ack number and only RST is set; otherwise seq = 0, and
 * ACK is set with ack = its seq + SYN + FIN + payload length (mod 2^32).
 */
export function buildReset(ctx: PacketContext): Uint8Array | null {
  if (ctx.protocol !== IPPROTO_TCP || ctx.isLaterFragment || !ctx.hasTransport) return null;
  const tcp = ctx.tcp;
  const flags = tcp.flags;
  if (flags & TCP_RST) return null;
  if (!checksumTrusted(ctx) && !checksumVerifies(ctx)) return null;
  if (toBroadcastOrMulticast(ctx) || martianSource(ctx.source)) return null;
  if (ctx.host.route(ctx.source) === null) return null;

  const out = new Uint8Array(IP_HEADER + TCP_HEADER);
  out[0] = 0x45;
  write16(out, 2, IP_HEADER + TCP_HEADER);
  write16(out, 6, IP_DF);
  out[8] = REJECT_TTL;
  out[9] = IPPROTO_TCP;
  write32(out, 12, ctx.destination);
  write32(out, 16, ctx.source);
  write16(out, 10, internetChecksum(out, 0, IP_HEADER));
  const t = IP_HEADER;
  write16(out, t, tcp.destinationPort);
  write16(out, t + 2, tcp.sourcePort);
  out[t + 12] = (TCP_HEADER / 4) << 4;
  if (flags & TCP_ACK) {
    write32(out, t + 4, tcp.ack);
    out[t + 13] = TCP_RST;
  } else {
    const payload = packetEnd(ctx) - ctx.transportOffset - tcp.headerLength;
    const ack = tcp.seq + (flags & TCP_SYN ? 1 : 0) + (flags & TCP_FIN ? 1 : 0) + (payload > 0 ? payload : 0);
    write32(out, t + 8, ack >>> 0);
    out[t + 13] = TCP_RST | TCP_ACK;
  }
  // Window (14-15) and urgent pointer (18-19) stay 0.
  const sum = pseudoHeaderSum(ctx.destination, ctx.source, IPPROTO_TCP, TCP_HEADER);
  write16(out, t + 16, internetChecksum(out, t, TCP_HEADER, sum));
  return out;
}
