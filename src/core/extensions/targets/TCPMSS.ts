// -j TCPMSS: rewrite the MSS option of TCP SYN packets, to a value or to the path MTU minus 40
// (libxt_TCPMSS, xt_TCPMSS). TCP rules only; clamping only where the route is known.
import { ParameterProblem } from "../../rules/errors.ts";
import { IPPROTO_TCP } from "../../net/protocols.ts";
import type { Hook } from "../../rules/hooks.ts";
import { defineTarget, type TargetFunction } from "../extension.ts";
import type { PacketContext } from "../../engine/packet-context.ts";
import { NF_DROP, XT_CONTINUE } from "../../engine/verdict.ts";
import { checksumUpdate16, checksumUpdate16Odd, read16, write16 } from "../../packet/checksum.ts";
import { TCP_OFF_CHECKSUM, TCP_OFF_DATA_OFFSET } from "../../packet/tcp.ts";
import { parseIntegerOption } from "./xtables-numbers.ts";

/** XT_TCPMSS_CLAMP_PMTU: the mss value that means --clamp-mss-to-pmtu. */
export const XT_TCPMSS_CLAMP_PMTU = 0xffff;
/** The largest --set-mss for IPv4: 65535 less an IP header. */
export const TCPMSS_MAX = 0xffff - 20;

/** The hooks --clamp-mss-to-pmtu works in (the others have no route yet). */
const CLAMP_HOOKS: readonly Hook[] = ["FORWARD", "OUTPUT", "POSTROUTING"];

/** struct xt_tcpmss_info, plus whether an option was given. */
export interface TcpmssTarget {
  mss: number;
  /** Whether --set-mss or --clamp-mss-to-pmtu was given. */
  given: boolean;
}

export const tcpmssTarget = defineTarget<TcpmssTarget>({
  name: "TCPMSS",
  options: [
    { name: "set-mss", hasArg: true },
    { name: "clamp-mss-to-pmtu", hasArg: false },
  ],
  init: () => ({ mss: 0, given: false }),
  parse(data, option, arg) {
    // Both may be given; the later one wins.
    data.mss = option === "set-mss" ? parseIntegerOption("TCPMSS", option, arg!, 0, TCPMSS_MAX) : XT_TCPMSS_CLAMP_PMTU;
    data.given = true;
  },
  finalCheck(data) {
    if (!data.given) throw new ParameterProblem("TCPMSS target: At least one parameter is required");
  },
  compile(data): TargetFunction {
    const newMss = data.mss === XT_TCPMSS_CLAMP_PMTU ? ASSUMED_MTU - CLAMP_HEADROOM : data.mss;
    return (ctx) => mangleMss(ctx, newMss);
  },
  save: (data) => (data.mss === XT_TCPMSS_CLAMP_PMTU ? "--clamp-mss-to-pmtu" : `--set-mss ${data.mss}`),
  print: (data) => (data.mss === XT_TCPMSS_CLAMP_PMTU ? "TCPMSS clamp to PMTU" : `TCPMSS set ${data.mss}`),
  // When the rule is added (EINVAL): xt_check_target's protocol test (the target's .proto), and
  // tcpmss_tg4_check's hooks for clamping, which it sees for a built-in chain only.
  checkRule(data, ctx) {
    if (ctx.protocol !== IPPROTO_TCP || ctx.protocolInverted) return { errno: "Invalid argument", reason: "TCPMSS is only valid with -p tcp" };
    if (data.mss === XT_TCPMSS_CLAMP_PMTU && ctx.builtinHook !== null && !CLAMP_HOOKS.includes(ctx.builtinHook)) {
      return { errno: "Invalid argument", reason: "TCPMSS --clamp-mss-to-pmtu only works from FORWARD, OUTPUT and POSTROUTING" };
    }
    return null;
  },
});

// --- the per-packet face ---------------------------------------------------------------------------
//
// xt_TCPMSS's tcpmss_tg4 / tcpmss_mangle_packet. The target itself looks at no flag: the rule's
// `--tcp-flags SYN,RST SYN` is what limits it to SYNs. iptables-legacy refuses a TCPMSS rule without
// such a match, but iptables-nft (the nf_tables compat layer uptables follows) accepts it, and then
// the kernel rewrites every segment the rule reaches: Linux 6.18 added "mss 536" to a bare ACK
// forwarded through `-p tcp -j TCPMSS --set-mss 1000`. uptables does the same.

/**
 * The MTU --clamp-mss-to-pmtu clamps to: the kernel takes the smaller of the route's MTU out and the
 * MTU of the route back to the sender; uptables' HostView knows no MTUs, so both are taken as 1500
 * (Ethernet), and the MSS becomes 1460.
 */
export const ASSUMED_MTU = 1500;
/** What the kernel subtracts from the MTU: sizeof(struct iphdr) + sizeof(struct tcphdr), options not counted. */
const CLAMP_HEADROOM = 40;
/** RFC 1122's default send MSS for IPv4: an added option never says more. */
const DEFAULT_MSS = 536;
const TCPOPT_NOP = 1;
const TCPOPT_MSS = 2;
const TCPOLEN_MSS = 4;

/**
 * Lowers the MSS option to `newMss` (never raises it: a SYN announcing less keeps its value), fixing
 * the TCP checksum incrementally. Without an MSS option, a segment with no payload and room in its
 * header gets one, placed first, saying min(newMss, 536): the header grows by 4 bytes and the IP total
 * length with it. The growth needs 4 spare bytes after the packet in the context's buffer (the datapath
 * reads the new length from the result); without them the segment goes on unchanged where the kernel
 * would have reallocated it. Non-first fragments are left alone; a TCP header too short is dropped
 * (the engine drops those before any rule anyway).
 *
 * One deliberate difference: the kernel fixes the checksum as if the MSS value sat at an even offset
 * of the header, which corrupts it when an odd number of single-byte options (NOP) precede the MSS
 * option (Linux 6.18 forwarded "nop,mss 1000,nop,nop,nop" with a bad checksum); uptables gets the
 * checksum right in that case too.
 */
function mangleMss(ctx: PacketContext, newMss: number): number {
  if (ctx.isLaterFragment) return XT_CONTINUE;
  if (ctx.protocol !== IPPROTO_TCP) return XT_CONTINUE;
  if (!ctx.hasTransport) return NF_DROP;
  const buf = ctx.buf;
  const t = ctx.transportOffset;
  const ipEnd = ctx.ip.offset + ctx.ip.totalLength;
  const length = ipEnd - t;
  const hlen = ctx.tcp.headerLength;
  const checkAt = t + TCP_OFF_CHECKSUM;

  for (let i = 20; i <= hlen - TCPOLEN_MSS; ) {
    const kind = buf[t + i]!;
    const size = buf[t + i + 1]!;
    if (kind === TCPOPT_MSS && size === TCPOLEN_MSS) {
      const oldMss = read16(buf, t + i + 2);
      if (oldMss <= newMss) return XT_CONTINUE;
      write16(buf, t + i + 2, newMss);
      const check = read16(buf, checkAt);
      write16(buf, checkAt, (i & 1) === 0 ? checksumUpdate16(check, oldMss, newMss) : checksumUpdate16Odd(check, oldMss, newMss));
      return XT_CONTINUE;
    }
    // optlen(): single-byte options, and a zero length, move on by one byte.
    i += kind <= TCPOPT_NOP || size === 0 ? 1 : size;
  }

  // No MSS option: add one, unless there is data after the header (it would have to move, and the
  // SYN might grow too large) or the data offset cannot grow.
  if (length > hlen || hlen >= 60) return XT_CONTINUE;
  if (buf.length < ipEnd + TCPOLEN_MSS) return XT_CONTINUE;
  const mss = newMss < DEFAULT_MSS ? newMss : DEFAULT_MSS;
  buf.copyWithin(t + 20 + TCPOLEN_MSS, t + 20, t + hlen);
  buf[t + 20] = TCPOPT_MSS;
  buf[t + 21] = TCPOLEN_MSS;
  write16(buf, t + 22, mss);
  const oldOffsetWord = read16(buf, t + TCP_OFF_DATA_OFFSET);
  const newOffsetWord = oldOffsetWord + ((TCPOLEN_MSS / 4) << 12);
  write16(buf, t + TCP_OFF_DATA_OFFSET, newOffsetWord);
  let check = read16(buf, checkAt);
  check = checksumUpdate16(check, length, length + TCPOLEN_MSS); // the pseudo-header's length
  check = checksumUpdate16(check, 0, (TCPOPT_MSS << 8) | TCPOLEN_MSS);
  check = checksumUpdate16(check, 0, mss);
  check = checksumUpdate16(check, oldOffsetWord, newOffsetWord);
  write16(buf, checkAt, check);
  ctx.ip.setTotalLength(ctx.ip.totalLength + TCPOLEN_MSS);
  // The kernel's skb ends at the IP total length: so does the grown packet.
  ctx.length = ipEnd + TCPOLEN_MSS;
  ctx.ip.reset(buf, ctx.ip.offset, ctx.length - ctx.ip.offset);
  ctx.parseTransport();
  return XT_CONTINUE;
}
