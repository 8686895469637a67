// One table's walk for one packet at one hook: the kernel's ipt_do_table. Rules are tried in order;
// a matching rule counts the packet, then its target decides: ACCEPT/DROP end the walk, a jump pushes
// a return point, goto does not, RETURN (or the end of a user chain) pops one, and the end of a
// built-in chain applies its policy.
import {
  FLAG_DESTINATION_INVERTED,
  FLAG_HAS_OTHER_PARTS,
  FLAG_IN_INVERTED,
  FLAG_IN_WILDCARD,
  FLAG_OUT_INVERTED,
  FLAG_OUT_WILDCARD,
  FLAG_PROTOCOL_INVERTED,
  FLAG_SOURCE_INVERTED,
  interfaceMatches,
  RuleAction,
  type ChainColumns,
  type CompiledRule,
  type CompiledTable,
} from "./compile.ts";
import { nextCandidate } from "./chain-index.ts";
import type { MatchFunction } from "../extensions/extension.ts";
import type { PacketContext } from "./packet-context.ts";
import { NF_ACCEPT, NF_DROP, XT_CONTINUE, XT_RETURN } from "./verdict.ts";

function extensionsMatch(tests: readonly MatchFunction[], ctx: PacketContext): boolean {
  for (let i = 0; i < tests.length; i++) if (!tests[i]!(ctx)) return false;
  return true;
}

/** The basic parts most rules do not have: -p, -i, -o, -f (ip_packet_match's other tests). */
function otherPartsMatch(c: ChainColumns, i: number, flags: number, ctx: PacketContext): boolean {
  return !(
    (c.protocol[i] !== 0 && (ctx.protocol === c.protocol[i]) === ((flags & FLAG_PROTOCOL_INVERTED) !== 0)) ||
    !interfaceMatches(ctx.inInterface, c.inName[i]!, (flags & FLAG_IN_WILDCARD) !== 0, (flags & FLAG_IN_INVERTED) !== 0) ||
    !interfaceMatches(ctx.outInterface, c.outName[i]!, (flags & FLAG_OUT_WILDCARD) !== 0, (flags & FLAG_OUT_INVERTED) !== 0) ||
    (c.fragment[i] !== -1 && ctx.isLaterFragment === (c.fragment[i] === 1))
  );
}

/** How a walk ended, for the trace: by a rule (`rule` set) or by the chain's policy. */
export interface WalkStep {
  readonly table: string;
  readonly chain: string;
  /** The rule that decided or was passed through, or null for the policy / a fall-through return. */
  readonly rule: CompiledRule | null;
  /** "rule" (matched), "return" (end of a user chain), "policy" (end of a built-in chain). */
  readonly kind: "rule" | "return" | "policy";
  readonly verdict: number;
}

export type WalkObserver = (step: WalkStep) => void;

/** Reusable return stack: (chain, next rule) pairs; bounded by the table's chain count. */
export class WalkStack {
  chains: Int32Array;
  positions: Int32Array;
  constructor(depth = 64) {
    this.chains = new Int32Array(depth);
    this.positions = new Int32Array(depth);
  }
  ensure(depth: number): void {
    if (this.chains.length >= depth) return;
    this.chains = new Int32Array(depth);
    this.positions = new Int32Array(depth);
  }
}

/**
 * Walks `table` from its built-in chain for `ctx.hook`; returns NF_ACCEPT or NF_DROP (or another
 * verdict a target gave). Tables without a chain for the hook accept.
 */
export function walkTable(table: CompiledTable, ctx: PacketContext, stack: WalkStack, observe: WalkObserver | null): number {
  const start = table.hookChain[ctx.hookIndex]!;
  if (start < 0) return NF_ACCEPT;
  stack.ensure(table.maxDepth);
  const bytes = ctx.length;
  let depth = 0;
  let chainIndex = start;
  let chain = table.chains[chainIndex]!;
  let i = 0;
  for (;;) {
    const rules = chain.rules;
    // A long chain's index skips the rules this packet's addresses cannot match.
    if (chain.index !== null) i = nextCandidate(chain.index, i, ctx.source, ctx.destination);
    if (i >= rules.length) {
      if (chain.hook !== null && depth === 0) {
        // Off the end of the built-in chain: its policy decides (and counts, if the chain has a counter).
        if (chain.policyCounted) {
          chain.policyCounters.packets++;
          chain.policyCounters.bytes += bytes;
        }
        if (observe) observe({ table: table.name, chain: chain.name, rule: null, kind: "policy", verdict: chain.policy });
        return chain.policy;
      }
      if (observe) observe({ table: table.name, chain: chain.name, rule: null, kind: "return", verdict: XT_RETURN });
      if (depth === 0) {
        // A user chain reached by goto from the built-in chain: back to the built-in policy.
        chainIndex = start;
        chain = table.chains[chainIndex]!;
        i = chain.rules.length;
        continue;
      }
      depth--;
      chainIndex = stack.chains[depth]!;
      chain = table.chains[chainIndex]!;
      i = stack.positions[depth]!;
      continue;
    }
    // The rule's basic part, read from the chain's columns (cheap to scan), then its extensions.
    const c = chain.columns;
    const flags = c.flags[i]!;
    if (
      ((ctx.source & c.sourceMask[i]!) === c.sourceAddress[i]) === ((flags & FLAG_SOURCE_INVERTED) !== 0) ||
      ((ctx.destination & c.destinationMask[i]!) === c.destinationAddress[i]) === ((flags & FLAG_DESTINATION_INVERTED) !== 0) ||
      ((flags & FLAG_HAS_OTHER_PARTS) !== 0 && !otherPartsMatch(c, i, flags, ctx)) ||
      (c.extensionCount[i] !== 0 && !extensionsMatch(rules[i]!.extensions, ctx))
    ) {
      if (ctx.hotdrop) return NF_DROP;
      i++;
      continue;
    }
    const rule = rules[i]!;
    rule.counters.packets++;
    rule.counters.bytes += bytes;
    switch (rule.action) {
      case RuleAction.None:
        if (observe) observe({ table: table.name, chain: chain.name, rule, kind: "rule", verdict: XT_CONTINUE });
        i++;
        continue;
      case RuleAction.Verdict:
        if (observe) observe({ table: table.name, chain: chain.name, rule, kind: "rule", verdict: rule.verdict });
        if (rule.verdict !== XT_RETURN) return rule.verdict;
        if (depth === 0) {
          if (chain.hook !== null) {
            // RETURN in a built-in chain: the policy applies.
            i = rules.length;
            continue;
          }
          chainIndex = start;
          chain = table.chains[chainIndex]!;
          i = chain.rules.length;
          continue;
        }
        depth--;
        chainIndex = stack.chains[depth]!;
        chain = table.chains[chainIndex]!;
        i = stack.positions[depth]!;
        continue;
      case RuleAction.Jump:
        if (observe) observe({ table: table.name, chain: chain.name, rule, kind: "rule", verdict: XT_CONTINUE });
        stack.chains[depth] = chainIndex;
        stack.positions[depth] = i + 1;
        depth++;
        chainIndex = rule.chain;
        chain = table.chains[chainIndex]!;
        i = 0;
        continue;
      case RuleAction.Goto:
        if (observe) observe({ table: table.name, chain: chain.name, rule, kind: "rule", verdict: XT_CONTINUE });
        chainIndex = rule.chain;
        chain = table.chains[chainIndex]!;
        i = 0;
        continue;
      case RuleAction.Target: {
        const verdict = rule.target!(ctx);
        if (observe) observe({ table: table.name, chain: chain.name, rule, kind: "rule", verdict });
        if (verdict !== XT_CONTINUE) return verdict;
        i++;
        continue;
      }
    }
  }
}
