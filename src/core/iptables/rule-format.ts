// A rule in iptables-save's words ("-s 10.0.0.0/8 -p tcp -m tcp --dport 80 -j ACCEPT"), the
// canonical text uptables-save, `-S` and rule comparison (-C, -D by spec) all use.
import { formatAddress, formatMask } from "../net/ipv4-address.ts";
import { protocolName } from "../net/protocols.ts";
import type { AddressMatch, Rule } from "../rules/model.ts";

function address(flag: string, match: AddressMatch | null): string {
  if (!match) return "";
  if (match.mask === 0 && !match.inverted) return "";
  return ` ${match.inverted ? "! " : ""}${flag} ${formatAddress(match.addr)}${formatMask(match.mask)}`;
}

/** The rule's options after "-A CHAIN", each preceded by a space; "" for a rule without any. */
export function formatRuleSpec(rule: Rule): string {
  const parts = formatRuleParts(rule);
  return parts.matchPart + parts.targetPart;
}

/** The rule's text split before its target, where `iptables -S -v` puts the counters. */
export function formatRuleParts(rule: Rule): { matchPart: string; targetPart: string } {
  let out = address("-s", rule.source) + address("-d", rule.destination);
  if (rule.inInterface) out += ` ${rule.inInterface.inverted ? "! " : ""}-i ${rule.inInterface.name}`;
  if (rule.outInterface) out += ` ${rule.outInterface.inverted ? "! " : ""}-o ${rule.outInterface.name}`;
  if (rule.protocol !== 0) {
    const name = protocolName(rule.protocol);
    out += ` ${rule.protocolInverted ? "! " : ""}-p ${name ?? rule.protocol}`;
  }
  if (rule.fragment) out += ` ${rule.fragment.inverted ? "! " : ""}-f`;
  for (const use of rule.matches) {
    const options = use.ext.save(use.data);
    out += ` -m ${use.ext.name}${options ? ` ${options}` : ""}`;
  }
  return { matchPart: out, targetPart: formatTarget(rule) };
}

function formatTarget(rule: Rule): string {
  const target = rule.target;
  switch (target.kind) {
    case "none":
      return "";
    case "verdict":
      return ` -j ${target.verdict}`;
    case "jump":
      return ` -j ${target.chain}`;
    case "goto":
      return ` -g ${target.chain}`;
    case "extension": {
      const options = target.ext.save(target.data);
      return ` -j ${target.ext.name}${options ? ` ${options}` : ""}`;
    }
  }
}

/** The name in iptables -L's "target" column. */
export function targetLabel(rule: Rule): string {
  const target = rule.target;
  switch (target.kind) {
    case "none":
      return "";
    case "verdict":
      return target.verdict;
    case "jump":
    case "goto":
      return target.chain;
    case "extension":
      return target.ext.name;
  }
}

/** The chain a rule jumps or goes to, if any. */
export function jumpTarget(rule: Rule): string | null {
  return rule.target.kind === "jump" || rule.target.kind === "goto" ? rule.target.chain : null;
}

/** Whether two rules are the same rule for -C and -D (counters aside). */
export function sameRule(a: Rule, b: Rule): boolean {
  return formatRuleSpec(a) === formatRuleSpec(b);
}
