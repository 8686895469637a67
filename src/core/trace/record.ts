// What `uptables trace` reports about a traced packet, as plain JSON-able records: the daemon builds
// them from the engine's trace events while the packet is walked (rule text and packet fields as
// they are at that moment), the CLI prints them as xtables-monitor's lines (format.ts) or as JSON.
import { formatAddress } from "../net/ipv4-address.ts";
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from "../net/protocols.ts";
import { TCP_ACK, TCP_CWR, TCP_ECE, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG } from "../packet/tcp.ts";
import { formatRuleSpec } from "../iptables/rule-format.ts";
import type { PacketContext } from "../engine/packet-context.ts";
import type { WalkStep } from "../engine/traverse.ts";
import { verdictName } from "../engine/verdict.ts";
import { CtState } from "../conntrack/states.ts";
import type { Hook } from "../rules/hooks.ts";
import type { Rule } from "../rules/model.ts";

/** The packet as it is when a table starts on it (xtables-monitor's PACKET line). */
export interface PacketRecord {
  type: "packet";
  id: string;
  hook: Hook;
  table: string;
  in: string | null;
  out: string | null;
  src: string;
  dst: string;
  len: number;
  tos: number;
  ttl: number;
  ipId: number;
  df: boolean;
  mf: boolean;
  protocol: number;
  sport?: number;
  dport?: number;
  /** TCP flags in xtables-monitor's order. */
  tcpFlags?: string[];
  icmpType?: number;
  icmpCode?: number;
}

/** A rule that matched: its verdict (ACCEPT, DROP, CONTINUE, RETURN, JUMP:X, GOTO:X) and text. */
export interface RuleRecord {
  type: "rule";
  id: string;
  hook: Hook;
  table: string;
  chain: string;
  /** 1-based position in its chain (the kernel's tool prints the nftables handle here). */
  number: number;
  verdict: string;
  rule: string;
}

/** The end of a built-in chain: its policy decided. */
export interface PolicyRecord {
  type: "policy";
  id: string;
  hook: Hook;
  table: string;
  chain: string;
  verdict: string;
}

/** The end of a user chain: back to the calling chain. */
export interface ReturnRecord {
  type: "return";
  id: string;
  hook: Hook;
  table: string;
  chain: string;
}

/** uptables' own: what conntrack made of the packet. */
export interface ConntrackRecord {
  type: "conntrack";
  id: string;
  hook: Hook;
  state: string;
  /** The connection's id in the table, or -1 (INVALID, UNTRACKED). */
  connection: number;
  direction: "ORIGINAL" | "REPLY";
}

/** uptables' own: an address/port rewrite (a reply's rewrite undoes the connection's other NAT). */
export interface NatRecord {
  type: "nat";
  id: string;
  hook: Hook;
  manip: "SNAT" | "DNAT";
  reply: boolean;
  from: string;
  to: string;
}

/** uptables' own: the routing decision. */
export interface RouteRecord {
  type: "route";
  id: string;
  decision: "input" | "forward" | "output";
  out: string | null;
}

/** uptables' own: how the packet's walk ended. */
export interface VerdictRecord {
  type: "verdict";
  id: string;
  verdict: "ACCEPT" | "DROP";
  path: "input" | "forward" | "output";
  out: string | null;
  /** Where and why it was dropped. */
  hook?: Hook | null;
  reason?: string;
}

/** Trace events that could not be delivered to a slow reader (sent once it catches up). */
export interface DroppedRecord {
  type: "dropped";
  count: number;
}

export type TraceRecord =
  | PacketRecord
  | RuleRecord
  | PolicyRecord
  | ReturnRecord
  | ConntrackRecord
  | NatRecord
  | RouteRecord
  | VerdictRecord
  | DroppedRecord;

// In the order xtables-monitor prints them.
const TCP_FLAG_NAMES: readonly [number, string][] = [
  [TCP_SYN, "SYN"],
  [TCP_ACK, "ACK"],
  [TCP_PSH, "PSH"],
  [TCP_RST, "RST"],
  [TCP_FIN, "FIN"],
  [TCP_URG, "URG"],
  [TCP_ECE, "ECE"],
  [TCP_CWR, "CWR"],
];

export function packetRecord(id: string, table: string, ctx: PacketContext): PacketRecord {
  const ip = ctx.ip;
  const record: PacketRecord = {
    type: "packet",
    id,
    hook: ctx.hook,
    table,
    in: ctx.inInterface,
    out: ctx.outInterface,
    src: formatAddress(ctx.source),
    dst: formatAddress(ctx.destination),
    len: ip.totalLength,
    tos: ip.tos,
    ttl: ip.ttl,
    ipId: ip.id,
    df: ip.dontFragment,
    mf: ip.moreFragments,
    protocol: ctx.protocol,
  };
  if (ctx.hasTransport && (ctx.protocol === IPPROTO_TCP || ctx.protocol === IPPROTO_UDP)) {
    record.sport = ctx.sourcePort;
    record.dport = ctx.destinationPort;
  }
  if (ctx.hasTransport && ctx.protocol === IPPROTO_TCP) record.tcpFlags = TCP_FLAG_NAMES.filter(([bit]) => (ctx.tcpFlags & bit) !== 0).map(([, name]) => name);
  if (ctx.hasTransport && ctx.protocol === IPPROTO_ICMP) {
    record.icmpType = ctx.icmpType;
    record.icmpCode = ctx.icmpCode;
  }
  return record;
}

// A rule's text is the same for every packet: made once per rule object (a rule-set load makes new ones).
const ruleTexts = new WeakMap<Rule, string>();

function ruleText(table: string, chain: string, rule: Rule): string {
  let text = ruleTexts.get(rule);
  if (text === undefined) {
    text = `-4 -t ${table} -A ${chain}${formatRuleSpec(rule)}`;
    ruleTexts.set(rule, text);
  }
  return text;
}

/** A step of a table's walk as a record (rule, policy or return). */
export function stepRecord(id: string, hook: Hook, step: WalkStep): RuleRecord | PolicyRecord | ReturnRecord {
  if (step.kind === "policy") return { type: "policy", id, hook, table: step.table, chain: step.chain, verdict: verdictName(step.verdict) };
  if (step.kind === "return" || step.rule === null) return { type: "return", id, hook, table: step.table, chain: step.chain };
  const rule = step.rule.rule;
  const target = rule.target;
  let verdict: string;
  if (target.kind === "jump") verdict = `JUMP:${target.chain}`;
  else if (target.kind === "goto") verdict = `GOTO:${target.chain}`;
  else verdict = verdictName(step.verdict);
  return { type: "rule", id, hook, table: step.table, chain: step.chain, number: step.rule.number, verdict, rule: ruleText(step.table, step.chain, rule) };
}

/** The name of a packet's conntrack state bit, as --ctstate spells it. */
export function ctStateName(state: number): string {
  switch (state) {
    case CtState.NEW:
      return "NEW";
    case CtState.ESTABLISHED:
      return "ESTABLISHED";
    case CtState.RELATED:
      return "RELATED";
    case CtState.UNTRACKED:
      return "UNTRACKED";
    default:
      return "INVALID";
  }
}

export function endpoint(address: number, port: number, withPort: boolean): string {
  return withPort ? `${formatAddress(address)}:${port}` : formatAddress(address);
}

