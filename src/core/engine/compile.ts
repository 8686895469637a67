// Turns a table of the model into what the engine walks per packet: chains as arrays of rules, each
// rule one match function (the basic -s/-d/-i/-o/-p/-f part and the -m extensions folded together)
// and a target, jumps resolved to chain indexes. Done once per rule-set load, never per packet.
import type { MatchFunction, TargetFunction } from "../extensions/extension.ts";
import type { Counters, InterfaceMatch, Rule, RuleSet, Table } from "../rules/model.ts";
import { chainsInOrder } from "../rules/model.ts";
import { HOOK_INDEX, type Hook } from "../rules/hooks.ts";
import type { TableName } from "../rules/tables.ts";
import { buildChainIndex, type ChainIndex } from "./chain-index.ts";
import { NF_ACCEPT, NF_DROP, XT_RETURN } from "./verdict.ts";

export const enum RuleAction {
  /** ACCEPT, DROP or RETURN (in `verdict`). */
  Verdict = 0,
  Jump = 1,
  Goto = 2,
  /** An extension target (in `target`). */
  Target = 3,
  /** No -j: the rule only counts. */
  None = 4,
}

export interface CompiledRule {
  readonly basic: BasicMatch;
  /** The -m extensions' tests, in order (an empty array when there are none). */
  readonly extensions: readonly MatchFunction[];
  readonly action: RuleAction;
  readonly verdict: number;
  /** Chain index for Jump/Goto. */
  readonly chain: number;
  readonly target: TargetFunction | null;
  /** The model's counters: the engine counts into them, so listings show live numbers. */
  readonly counters: Counters;
  readonly rule: Rule;
  /** 1-based, as `--line-numbers` shows it. */
  readonly number: number;
}

/**
 * The basic parts of a chain's rules as columns (struct of arrays): the walk scans them in order,
 * so a long chain of rules that do not match costs a few sequential loads per rule, as the
 * kernel's contiguous rule blob does.
 */
export interface ChainColumns {
  // Addresses and masks as signed 32-bit numbers: the walk compares them with `address | 0` in
  // integer registers, where unsigned values above 2^31 would be doubles.
  readonly sourceMask: Int32Array;
  readonly sourceAddress: Int32Array;
  readonly destinationMask: Int32Array;
  readonly destinationAddress: Int32Array;
  readonly protocol: Uint8Array;
  /** FLAG_* bits below. */
  readonly flags: Uint16Array;
  /** -1: -f not given; 0: -f; 1: ! -f. */
  readonly fragment: Int8Array;
  readonly inName: (string | null)[];
  readonly outName: (string | null)[];
  /** How many -m extensions each rule has. */
  readonly extensionCount: Uint8Array;
}

export const FLAG_SOURCE_INVERTED = 1;
export const FLAG_DESTINATION_INVERTED = 2;
export const FLAG_PROTOCOL_INVERTED = 4;
export const FLAG_IN_INVERTED = 8;
export const FLAG_IN_WILDCARD = 16;
export const FLAG_OUT_INVERTED = 32;
export const FLAG_OUT_WILDCARD = 64;
/** The rule has -p, -i, -o or -f: the walk tests these only when one is there. */
export const FLAG_HAS_PROTOCOL = 128;
export const FLAG_HAS_IN = 256;
export const FLAG_HAS_OUT = 512;
export const FLAG_HAS_FRAGMENT = 1024;
export const FLAG_HAS_OTHER_PARTS = FLAG_HAS_PROTOCOL | FLAG_HAS_IN | FLAG_HAS_OUT | FLAG_HAS_FRAGMENT;

function chainColumns(rules: readonly CompiledRule[]): ChainColumns {
  const n = rules.length;
  const c: ChainColumns = {
    sourceMask: new Int32Array(n),
    sourceAddress: new Int32Array(n),
    destinationMask: new Int32Array(n),
    destinationAddress: new Int32Array(n),
    protocol: new Uint8Array(n),
    flags: new Uint16Array(n),
    fragment: new Int8Array(n),
    inName: new Array<string | null>(n).fill(null),
    outName: new Array<string | null>(n).fill(null),
    extensionCount: new Uint8Array(n),
  };
  rules.forEach((rule, i) => {
    const b = rule.basic;
    c.sourceMask[i] = b.sourceMask;
    c.sourceAddress[i] = b.sourceAddress;
    c.destinationMask[i] = b.destinationMask;
    c.destinationAddress[i] = b.destinationAddress;
    c.protocol[i] = b.protocol;
    c.flags[i] =
      (b.sourceInverted ? FLAG_SOURCE_INVERTED : 0) |
      (b.destinationInverted ? FLAG_DESTINATION_INVERTED : 0) |
      (b.protocolInverted ? FLAG_PROTOCOL_INVERTED : 0) |
      (b.inInverted ? FLAG_IN_INVERTED : 0) |
      (b.inWildcard ? FLAG_IN_WILDCARD : 0) |
      (b.outInverted ? FLAG_OUT_INVERTED : 0) |
      (b.outWildcard ? FLAG_OUT_WILDCARD : 0) |
      (b.protocol !== 0 ? FLAG_HAS_PROTOCOL : 0) |
      (b.inName !== null ? FLAG_HAS_IN : 0) |
      (b.outName !== null ? FLAG_HAS_OUT : 0) |
      (b.fragment !== -1 ? FLAG_HAS_FRAGMENT : 0);
    c.fragment[i] = b.fragment;
    c.inName[i] = b.inName;
    c.outName[i] = b.outName;
    c.extensionCount[i] = Math.min(rule.extensions.length, 255);
  });
  return c;
}

export interface CompiledChain {
  readonly name: string;
  readonly hook: Hook | null;
  readonly rules: readonly CompiledRule[];
  readonly columns: ChainColumns;
  /** For long chains: which rules a packet's addresses can match (null: scan every rule). */
  readonly index: ChainIndex | null;
  readonly policy: number;
  readonly policyCounters: Counters;
  /** Whether taking the policy counts (iptables-nft: only a base chain with a counter, see Chain.policyCounted). */
  readonly policyCounted: boolean;
}

export interface CompiledTable {
  readonly name: TableName;
  readonly chains: readonly CompiledChain[];
  /** The built-in chain index for each hook (by HOOK_INDEX) the table has; -1 where it has none. */
  readonly hookChain: Int32Array;
  /** The deepest jump nesting the table allows (chain count bounds it, since loops are refused). */
  readonly maxDepth: number;
}

export class CompileError extends Error {}

/**
 * The basic part of a rule (-s -d -i -o -p -f) as plain numbers and strings, tested inline by the
 * walk (the kernel's ip_packet_match): every rule has the same shape, so one optimised loop serves
 * rule sets of any size. Absent parts are written so that they always pass.
 */
export interface BasicMatch {
  readonly sourceMask: number;
  readonly sourceAddress: number;
  readonly sourceInverted: boolean;
  readonly destinationMask: number;
  readonly destinationAddress: number;
  readonly destinationInverted: boolean;
  /** null: any interface; a trailing "+" is removed and `inWildcard` set. */
  readonly inName: string | null;
  readonly inWildcard: boolean;
  readonly inInverted: boolean;
  readonly outName: string | null;
  readonly outWildcard: boolean;
  readonly outInverted: boolean;
  /** 0: any protocol. */
  readonly protocol: number;
  readonly protocolInverted: boolean;
  /** -1: -f not given; 0: -f; 1: ! -f. */
  readonly fragment: number;
}

export function compileBasicMatch(rule: Rule): BasicMatch {
  const iface = (match: InterfaceMatch | null): { name: string | null; wildcard: boolean; inverted: boolean } => {
    if (!match) return { name: null, wildcard: false, inverted: false };
    const wildcard = match.name.endsWith("+");
    return { name: wildcard ? match.name.slice(0, -1) : match.name, wildcard, inverted: match.inverted };
  };
  const inIface = iface(rule.inInterface);
  const outIface = iface(rule.outInterface);
  return {
    sourceMask: rule.source ? rule.source.mask >>> 0 : 0,
    sourceAddress: rule.source ? rule.source.addr >>> 0 : 0,
    sourceInverted: rule.source?.inverted ?? false,
    destinationMask: rule.destination ? rule.destination.mask >>> 0 : 0,
    destinationAddress: rule.destination ? rule.destination.addr >>> 0 : 0,
    destinationInverted: rule.destination?.inverted ?? false,
    inName: inIface.name,
    inWildcard: inIface.wildcard,
    inInverted: inIface.inverted,
    outName: outIface.name,
    outWildcard: outIface.wildcard,
    outInverted: outIface.inverted,
    protocol: rule.protocol,
    protocolInverted: rule.protocolInverted,
    fragment: rule.fragment ? (rule.fragment.inverted ? 1 : 0) : -1,
  };
}

export function interfaceMatches(value: string | null, name: string | null, wildcard: boolean, inverted: boolean): boolean {
  if (name === null) return true;
  const hit = wildcard ? value !== null && value.startsWith(name) : value === name;
  return hit !== inverted;
}

const NO_EXTENSIONS: readonly MatchFunction[] = [];

/** The rule's -m extensions, compiled, in the order given. */
export function compileExtensionMatches(rule: Rule): readonly MatchFunction[] {
  if (rule.matches.length === 0) return NO_EXTENSIONS;
  return rule.matches.map((use) => {
    if (!use.ext.compile) throw new CompileError(`match "${use.ext.name}" cannot run in the engine yet`);
    return use.ext.compile(use.data);
  });
}

const POLICY: Record<string, number> = { ACCEPT: NF_ACCEPT, DROP: NF_DROP };

export function compileTable(table: Table): CompiledTable {
  const ordered = chainsInOrder(table);
  const indexOf = new Map(ordered.map((c, i) => [c.name, i]));
  const chains: CompiledChain[] = ordered.map((chain) => {
    const rules = chain.rules.map((rule, i) => compileRule(rule, i + 1, indexOf));
    const columns = chainColumns(rules);
    return {
      name: chain.name,
      hook: chain.hook,
      policy: chain.policy === null ? NF_ACCEPT : POLICY[chain.policy]!,
      policyCounters: chain.policyCounters,
      policyCounted: chain.policyCounted,
      rules,
      columns,
      index: buildChainIndex(
        rules.length,
        { mask: columns.sourceMask, address: columns.sourceAddress, inverted: (i) => (columns.flags[i]! & FLAG_SOURCE_INVERTED) !== 0 },
        { mask: columns.destinationMask, address: columns.destinationAddress, inverted: (i) => (columns.flags[i]! & FLAG_DESTINATION_INVERTED) !== 0 },
      ),
    };
  });
  const hookChain = new Int32Array(5).fill(-1);
  chains.forEach((chain, i) => {
    if (chain.hook !== null) hookChain[HOOK_INDEX[chain.hook]] = i;
  });
  return { name: table.name, chains, hookChain, maxDepth: chains.length + 1 };
}

/** What the engine runs: each table the rule set has (null where it has none), and whether conntrack runs. */
export interface CompiledRuleSet {
  readonly raw: CompiledTable | null;
  readonly mangle: CompiledTable | null;
  readonly filter: CompiledTable | null;
  readonly nat: CompiledTable | null;
  /**
   * Whether the namespace tracks connections. The kernel registers conntrack's hooks only while a
   * rule needs them (nf_ct_netns_get from the checkentry of state, conntrack, connmark, CT without
   * --notrack, SNAT/DNAT/MASQUERADE/REDIRECT), in any chain, reachable or not. A nat table without
   * such a rule does not (its chains are then never walked: nf_nat_inet_fn skips a packet without
   * conntrack). When the last such rule goes, existing entries stay until they time out, but no
   * packet is tracked (or NATed) meanwhile. Verified on Linux 6.18 with iptables-nft 1.8.9 and
   * iptables-legacy: conntrack -L after a datagram, one rule at a time.
   */
  readonly tracksConnections: boolean;
}

export function compileRuleSet(rules: RuleSet): CompiledRuleSet {
  const table = (name: TableName): CompiledTable | null => {
    const t = rules.tables.get(name);
    return t ? compileTable(t) : null;
  };
  return { raw: table("raw"), mangle: table("mangle"), filter: table("filter"), nat: table("nat"), tracksConnections: usesConntrack(rules) };
}

function usesConntrack(rules: RuleSet): boolean {
  for (const table of rules.tables.values()) {
    for (const chain of table.chains.values()) {
      for (const rule of chain.rules) {
        if (rule.matches.some((use) => use.ext.usesConntrack?.(use.data) === true)) return true;
        if (rule.target.kind === "extension" && rule.target.ext.usesConntrack?.(rule.target.data) === true) return true;
      }
    }
  }
  return false;
}

function compileRule(rule: Rule, number: number, indexOf: Map<string, number>): CompiledRule {
  const base = { basic: compileBasicMatch(rule), extensions: compileExtensionMatches(rule), counters: rule.counters, rule, number, verdict: 0, chain: -1, target: null };
  const target = rule.target;
  switch (target.kind) {
    case "none":
      return { ...base, action: RuleAction.None };
    case "verdict":
      return {
        ...base,
        action: RuleAction.Verdict,
        verdict: target.verdict === "ACCEPT" ? NF_ACCEPT : target.verdict === "DROP" ? NF_DROP : XT_RETURN,
      };
    case "jump":
    case "goto": {
      const chain = indexOf.get(target.chain);
      if (chain === undefined) throw new CompileError(`chain ${target.chain} does not exist`);
      return { ...base, action: target.kind === "jump" ? RuleAction.Jump : RuleAction.Goto, chain };
    }
    case "extension": {
      if (!target.ext.compile) throw new CompileError(`target "${target.ext.name}" cannot run in the engine yet`);
      return { ...base, action: RuleAction.Target, target: target.ext.compile(target.data) };
    }
  }
}
