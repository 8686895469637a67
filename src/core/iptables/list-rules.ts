// `iptables -S`: the chains and rules of a table as the commands that would make them.
import type { Chain, Rule, Table } from "../rules/model.ts";
import { listedChains } from "../rules/model.ts";
import { formatRuleParts } from "./rule-format.ts";

export interface ListRulesFormat {
  readonly chain: string | null;
  readonly ruleNumber: number | null;
  readonly verbose: number | boolean;
}

function chainLine(chain: Chain, verbose: number | boolean): string {
  if (chain.hook === null) return `-N ${chain.name}`;
  const counters = verbose ? ` -c ${chain.policyCounters.packets} ${chain.policyCounters.bytes}` : "";
  return `-P ${chain.name} ${chain.policy}${counters}`;
}

/** "-A CHAIN <spec>", with -v the counters as "-c P B" before the target, as iptables -S -v does. */
export function ruleCommand(chain: string, rule: Rule, verbose: number | boolean): string {
  const { matchPart, targetPart } = formatRuleParts(rule);
  const counters = verbose ? ` -c ${rule.counters.packets} ${rule.counters.bytes}` : "";
  return `-A ${chain}${matchPart}${counters}${targetPart}`;
}

export function listRules(table: Table, fmt: ListRulesFormat): string {
  const all = listedChains(table);
  const chains = fmt.chain === null ? all : all.filter((c) => c.name === fmt.chain);
  if (fmt.chain !== null && fmt.ruleNumber !== null) {
    const rule = chains[0]?.rules[fmt.ruleNumber - 1];
    return rule ? `${ruleCommand(fmt.chain, rule, fmt.verbose)}\n` : "";
  }
  const lines: string[] = [];
  for (const chain of chains) lines.push(chainLine(chain, fmt.verbose));
  for (const chain of chains) for (const rule of chain.rules) lines.push(ruleCommand(chain.name, rule, fmt.verbose));
  return lines.map((l) => `${l}\n`).join("");
}
