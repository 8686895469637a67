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

export interface RuleTextOptions {
  /**
   * Quote names that iptables-restore would split or misread (a `"`, `\` or blank in a chain or
   * interface name). iptables-save prints them bare, and so does uptables-save; uptables' own
   * rule-set files use this so that any rule set the kernel's iptables accepts reads back whole.
   */
  readonly forRestore?: boolean;
}

/** A chain or interface name as a word of an iptables-save line. */
export function nameWord(name: string, opts: RuleTextOptions = {}): string {
  if (!opts.forRestore || !/["\\\s]/.test(name)) return name;
  return `"${name.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** The rule's options after "-A CHAIN", each preceded by a space; "" for a rule without any. */
export function formatRuleSpec(rule: Rule, opts: RuleTextOptions = {}): string {
  const parts = formatRuleParts(rule, opts);
  return parts.matchPart + parts.targetPart;
}

/** The rule's text split before its target, where `iptables -S -v` puts the counters. */
export function formatRuleParts(rule: Rule, opts: RuleTextOptions = {}): { matchPart: string; targetPart: string } {
  let out = address("-s", rule.source) + address("-d", rule.destination);
  if (rule.inInterface) out += ` ${rule.inInterface.inverted ? "! " : ""}-i ${nameWord(rule.inInterface.name, opts)}`;
  if (rule.outInterface) out += ` ${rule.outInterface.inverted ? "! " : ""}-o ${nameWord(rule.outInterface.name, opts)}`;
  if (rule.protocol !== 0) {
    const name = protocolName(rule.protocol);
    out += ` ${rule.protocolInverted ? "! " : ""}-p ${name ?? rule.protocol}`;
  }
  if (rule.fragment) out += ` ${rule.fragment.inverted ? "! " : ""}-f`;
  for (const use of rule.matches) {
    const options = use.ext.save(use.data);
    out += ` -m ${use.ext.name}${options ? ` ${options}` : ""}`;
  }
  return { matchPart: out, targetPart: formatTarget(rule, opts) };
}

function formatTarget(rule: Rule, opts: RuleTextOptions): string {
  const target = rule.target;
  switch (target.kind) {
    case "none":
      return "";
    case "verdict":
      return ` -j ${target.verdict}`;
    case "jump":
      return ` -j ${nameWord(target.chain, opts)}`;
    case "goto":
      return ` -g ${nameWord(target.chain, opts)}`;
    case "extension": {
      const options = target.ext.save(target.data);
      return ` -j ${target.ext.name}${options ? ` ${options}` : ""}`;
    }
  }
}

/**
 * The name in iptables -L's "target" column: for an alias target the one the kernel runs
 * (`realName`); with `asGiven`, the name as the command gave it (what -v prints for -A/-I/...).
 */
export function targetLabel(rule: Rule, asGiven = false): string {
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
      return asGiven ? target.ext.name : (target.ext.realName ?? target.ext.name);
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
