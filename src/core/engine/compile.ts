// Turns a table of the model into what the engine walks per packet: chains as arrays of rules, each
// rule one match function (the basic -s/-d/-i/-o/-p/-f part and the -m extensions folded together)
// and a target, jumps resolved to chain indexes. Done once per rule-set load, never per packet.
import type { MatchFunction, TargetFunction } from "../extensions/extension.ts";
import type { Counters, InterfaceMatch, Rule, Table } from "../rules/model.ts";
import { chainsInOrder } from "../rules/model.ts";
import type { Hook } from "../rules/hooks.ts";
import type { TableName } from "../rules/tables.ts";
import type { PacketContext } from "./packet-context.ts";
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
  readonly match: MatchFunction | null;
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

export interface CompiledChain {
  readonly name: string;
  readonly hook: Hook | null;
  readonly rules: readonly CompiledRule[];
  readonly policy: number;
  readonly policyCounters: Counters;
}

export interface CompiledTable {
  readonly name: TableName;
  readonly chains: readonly CompiledChain[];
  /** The built-in chain index for each hook the table has; -1 where it has none. */
  readonly hookChain: Readonly<Record<Hook, number>>;
  /** The deepest jump nesting the table allows (chain count bounds it, since loops are refused). */
  readonly maxDepth: number;
}

export class CompileError extends Error {}

function interfaceTest(match: InterfaceMatch, field: "inInterface" | "outInterface"): MatchFunction {
  const wildcard = match.name.endsWith("+");
  const name = wildcard ? match.name.slice(0, -1) : match.name;
  const inverted = match.inverted;
  if (wildcard) {
    return (ctx) => {
      const value = ctx[field];
      return (value !== null && value.startsWith(name)) !== inverted;
    };
  }
  return (ctx) => (ctx[field] === name) !== inverted;
}

function both(a: MatchFunction | null, b: MatchFunction): MatchFunction {
  if (a === null) return b;
  return (ctx) => a(ctx) && b(ctx);
}

/** The rule's whole test: the basic part first (cheapest), then extensions in the order given. */
export function compileRuleMatch(rule: Rule): MatchFunction | null {
  let test: MatchFunction | null = null;
  if (rule.source) {
    const { addr, mask, inverted } = rule.source;
    test = both(test, (ctx) => (((ctx.source & mask) >>> 0) === addr) !== inverted);
  }
  if (rule.destination) {
    const { addr, mask, inverted } = rule.destination;
    test = both(test, (ctx) => (((ctx.destination & mask) >>> 0) === addr) !== inverted);
  }
  if (rule.inInterface) test = both(test, interfaceTest(rule.inInterface, "inInterface"));
  if (rule.outInterface) test = both(test, interfaceTest(rule.outInterface, "outInterface"));
  if (rule.protocol !== 0) {
    const protocol = rule.protocol;
    const inverted = rule.protocolInverted;
    test = both(test, (ctx: PacketContext) => (ctx.protocol === protocol) !== inverted);
  }
  if (rule.fragment) {
    const inverted = rule.fragment.inverted;
    test = both(test, (ctx) => ctx.isLaterFragment !== inverted);
  }
  for (const use of rule.matches) {
    if (!use.ext.compile) throw new CompileError(`match "${use.ext.name}" cannot run in the engine yet`);
    test = both(test, use.ext.compile(use.data));
  }
  return test;
}

const POLICY: Record<string, number> = { ACCEPT: NF_ACCEPT, DROP: NF_DROP };

export function compileTable(table: Table): CompiledTable {
  const ordered = chainsInOrder(table);
  const indexOf = new Map(ordered.map((c, i) => [c.name, i]));
  const chains: CompiledChain[] = ordered.map((chain) => ({
    name: chain.name,
    hook: chain.hook,
    policy: chain.policy === null ? NF_ACCEPT : POLICY[chain.policy]!,
    policyCounters: chain.policyCounters,
    rules: chain.rules.map((rule, i) => compileRule(rule, i + 1, indexOf)),
  }));
  const hookChain = { PREROUTING: -1, INPUT: -1, FORWARD: -1, OUTPUT: -1, POSTROUTING: -1 } as Record<Hook, number>;
  chains.forEach((chain, i) => {
    if (chain.hook !== null) hookChain[chain.hook] = i;
  });
  return { name: table.name, chains, hookChain, maxDepth: chains.length + 1 };
}

function compileRule(rule: Rule, number: number, indexOf: Map<string, number>): CompiledRule {
  const match = compileRuleMatch(rule);
  const base = { match, counters: rule.counters, rule, number, verdict: 0, chain: -1, target: null };
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
