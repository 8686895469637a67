// Turns a table of the model into what the engine walks per packet: chains as arrays of rules, each
// rule one match function (the basic -s/-d/-i/-o/-p/-f part and the -m extensions folded together)
// and a target, jumps resolved to chain indexes. Done once per rule-set load, never per packet.
import type { MatchFunction, TargetFunction } from "../extensions/extension.ts";
import type { Counters, InterfaceMatch, Rule, Table } from "../rules/model.ts";
import { chainsInOrder } from "../rules/model.ts";
import { HOOK_INDEX, type Hook } from "../rules/hooks.ts";
import type { TableName } from "../rules/tables.ts";
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
  /** The built-in chain index for each hook (by HOOK_INDEX) the table has; -1 where it has none. */
  readonly hookChain: Int32Array;
  /** The deepest jump nesting the table allows (chain count bounds it, since loops are refused). */
  readonly maxDepth: number;
}

export class CompileError extends Error {}

/**
 * The rule's whole test as one generated function: the basic part (-s -d -i -o -p -f) inlined as
 * comparisons, then each -m extension's compiled test in the order given. One call per rule instead
 * of a chain of closures keeps the walk fast. Only numbers and JSON-quoted interface names are
 * written into the source, so the generated code cannot be steered by rule text.
 */
export function compileRuleMatch(rule: Rule): MatchFunction | null {
  const conditions: string[] = [];
  const extensions: MatchFunction[] = [];
  const address = (field: "source" | "destination", match: { addr: number; mask: number; inverted: boolean }): void => {
    const op = match.inverted ? "!==" : "===";
    conditions.push(`((ctx.${field} & ${match.mask >>> 0}) >>> 0) ${op} ${match.addr >>> 0}`);
  };
  const iface = (field: "inInterface" | "outInterface", match: InterfaceMatch): void => {
    const wildcard = match.name.endsWith("+");
    const name = JSON.stringify(wildcard ? match.name.slice(0, -1) : match.name);
    const test = wildcard ? `(ctx.${field} !== null && ctx.${field}.startsWith(${name}))` : `(ctx.${field} === ${name})`;
    conditions.push(`${test} !== ${match.inverted}`);
  };
  if (rule.source) address("source", rule.source);
  if (rule.destination) address("destination", rule.destination);
  if (rule.inInterface) iface("inInterface", rule.inInterface);
  if (rule.outInterface) iface("outInterface", rule.outInterface);
  if (rule.protocol !== 0) conditions.push(`(ctx.protocol === ${rule.protocol}) !== ${rule.protocolInverted}`);
  if (rule.fragment) conditions.push(`ctx.isLaterFragment !== ${rule.fragment.inverted}`);
  for (const use of rule.matches) {
    if (!use.ext.compile) throw new CompileError(`match "${use.ext.name}" cannot run in the engine yet`);
    conditions.push(`m${extensions.length}(ctx)`);
    extensions.push(use.ext.compile(use.data));
  }
  if (conditions.length === 0) return null;
  const names = extensions.map((_, i) => `m${i}`);
  const factory = new Function(...names, `"use strict"; return function ruleMatch(ctx) { return ${conditions.join(" && ")}; };`);
  return factory(...extensions) as MatchFunction;
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
  const hookChain = new Int32Array(5).fill(-1);
  chains.forEach((chain, i) => {
    if (chain.hook !== null) hookChain[HOOK_INDEX[chain.hook]] = i;
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
