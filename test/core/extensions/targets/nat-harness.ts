// What the NAT target tests share: rules in the nat table, read back as iptables-save and -L show
// them, and the NatRange a rule's target holds.
import type { RuleSet } from "../../../../src/core/rules/model.ts";
import type { NatRange } from "../../../../src/core/extensions/targets/nat-range.ts";
import { appended, listed as listedIn, saved } from "../../../support/extension-harness.ts";

export { HINT, TAG } from "../../../support/extension-harness.ts";

/** A rule set with one rule appended to `chain` of the nat table. */
export function appendedToNat(chain: string, args: readonly string[]): RuleSet {
  return appended("nat", chain, args);
}

/** The nat table's rule lines as iptables-save prints them. */
export function savedRules(rules: RuleSet): string[] {
  return saved(rules, "nat");
}

/** The rule lines of `iptables -t nat -L CHAIN`, with -n when `numeric`. */
export function listed(rules: RuleSet, chain: string, numeric: boolean): string[] {
  return numeric ? listedIn(rules, "nat", chain, "-n") : listedIn(rules, "nat", chain);
}

/** The NatRange held by the first rule of a nat chain. */
export function targetData(rules: RuleSet, chain: string): NatRange {
  const target = rules.tables.get("nat")!.chains.get(chain)!.rules[0]!.target;
  if (target.kind !== "extension") throw new Error("not an extension target");
  return target.data as NatRange;
}
