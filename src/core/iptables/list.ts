// `iptables -L`: the chains of a table as columns, byte for byte as iptables-nft 1.8.9 prints them
// (print_header, print_rule_details, print_fragment, print_ifaces, print_ipv4_addresses), and the
// one-line form `-v` prints for each rule -A/-I/-R/-D/-C handle (FMT_PRINT_RULE).
import { addressToAnyName, formatAddress, formatListMask } from "../net/ipv4-address.ts";
import { protocolName } from "../net/protocols.ts";
import type { AddressMatch, Chain, InterfaceMatch, Rule, Table } from "../rules/model.ts";
import { listedChains } from "../rules/model.ts";
import { jumpTarget, targetLabel } from "./rule-format.ts";

export interface ListFormat {
  readonly chain: string | null;
  readonly ruleNumber: number | null;
  readonly numeric: boolean;
  /** How many -v were given (0: none). */
  readonly verbose: number | boolean;
  readonly exact: boolean;
  readonly lineNumbers: boolean;
}

const padRight = (s: string, width: number): string => (s.length >= width ? s : s + " ".repeat(width - s.length));
const padLeft = (s: string, width: number): string => (s.length >= width ? s : " ".repeat(width - s.length) + s);

/** A counter as iptables prints it: exact with -x, else with K/M/G/T past 99999 (xtables_print_num). */
export function formatCount(value: number, exact: boolean): string {
  if (exact) return `${padLeft(String(value), 8)} `;
  if (value <= 99999) return `${padLeft(String(value), 5)} `;
  let n = value;
  for (const suffix of ["K", "M", "G"]) {
    n = Math.floor((n + 500) / 1000);
    if (n <= 9999) return `${padLeft(String(n), 4)}${suffix} `;
  }
  n = Math.floor((n + 500) / 1000);
  return `${padLeft(String(n), 4)}T `;
}

/** xtables_print_num without the table layout: "0", "100K". */
function countWithoutTable(value: number, exact: boolean): string {
  return exact ? String(value) : formatCount(value, false).trim();
}

function header(fmt: ListFormat): string {
  let line = "";
  if (fmt.lineNumbers) line += `${padRight("num", 4)} `;
  if (fmt.verbose) {
    line += fmt.exact ? `${padLeft("pkts", 8)} ${padLeft("bytes", 10)} ` : `${padLeft("pkts", 5)} ${padLeft("bytes", 5)} `;
  }
  line += `${padRight("target", 9)} `;
  line += " prot opt";
  if (fmt.verbose) line += ` ${padRight("in", 6)} ${padRight("out", 6)} `;
  line += ` ${padRight("source", 19)} `;
  line += ` ${padRight("destination", 19)} `;
  return line;
}

/** ipv4_addr_to_string: "anywhere" for /0 without -n; a name (without -n) or dotted quad, then the mask. */
function addressText(match: AddressMatch | null, numeric: boolean): string {
  const addr = match?.addr ?? 0;
  const mask = match?.mask ?? 0;
  if (mask === 0 && !numeric) return "anywhere";
  return (numeric ? formatAddress(addr) : addressToAnyName(addr)) + formatListMask(mask);
}

function interfaceText(match: InterfaceMatch | null, numeric: boolean): string {
  const name = match ? match.name : numeric ? "*" : "any";
  return `${match?.inverted ? "!" : ""}${name}`;
}

/** The protocol column: the number with -n, else the /etc/protocols name ("all" for 0). */
function protocolText(rule: Rule, numeric: boolean): string {
  return numeric ? String(rule.protocol) : (protocolName(rule.protocol) ?? String(rule.protocol));
}

/** What the matches and the target print after the addresses (each with its leading space). */
function extensionsText(rule: Rule, numeric: boolean): string {
  let text = rule.target.kind === "goto" ? "[goto] " : "";
  for (const use of rule.matches) {
    const printed = use.ext.print(use.data, { numeric });
    text += printed ? ` ${printed}` : "";
  }
  if (rule.target.kind === "extension") {
    const printed = rule.target.ext.print(rule.target.data, { numeric });
    text += printed ? ` ${printed}` : "";
  }
  return text;
}

function fragmentText(rule: Rule): string {
  return `${rule.fragment?.inverted ? "!" : "-"}${rule.fragment ? "f" : "-"}`;
}

function ruleLine(rule: Rule, num: number, fmt: ListFormat): string {
  let line = "";
  if (fmt.lineNumbers) line += `${padRight(String(num), 4)} `;
  if (fmt.verbose) line += formatCount(rule.counters.packets, fmt.exact) + formatCount(rule.counters.bytes, fmt.exact);
  line += `${padRight(targetLabel(rule), 9)} `;
  line += rule.protocolInverted ? "!" : " ";
  line += `${padRight(protocolText(rule, fmt.numeric), 4)} `;
  line += `${fragmentText(rule)} `;
  if (fmt.verbose) {
    line += ` ${padRight(interfaceText(rule.inInterface, fmt.numeric), 6)} `;
    line += `${padRight(interfaceText(rule.outInterface, fmt.numeric), 6)} `;
  }
  line += `${rule.source?.inverted ? "!" : " "}${padRight(addressText(rule.source, fmt.numeric), 19)} `;
  line += `${rule.destination?.inverted ? "!" : " "}${padRight(addressText(rule.destination, fmt.numeric), 19)} `;
  return line + extensionsText(rule, fmt.numeric);
}

// iptables' xtables_chain_protos, the names the one-line form uses (no /etc/protocols there).
const CHAIN_PROTO_NAMES: ReadonlyMap<number, string> = new Map([
  [6, "tcp"], [132, "sctp"], [17, "udp"], [136, "udplite"], [1, "icmp"], [58, "ipv6-icmp"], [50, "esp"],
  [51, "ah"], [135, "mobility-header"], [0, "all"],
]);

/**
 * The rule as `-v` shows it when -A/-I/-R/-D/-C handle it (iptables' FMT_PRINT_RULE: numeric, no
 * table layout), e.g. "ACCEPT  tcp opt -- in * out *  1.2.3.4  -> 0.0.0.0/0   tcp dpt:80".
 */
export function formatRuleForCommand(rule: Rule): string {
  let line = `${targetLabel(rule, true)} `;
  line += rule.protocolInverted ? "!" : " ";
  line += `${CHAIN_PROTO_NAMES.get(rule.protocol) ?? String(rule.protocol)} `;
  line += `opt ${fragmentText(rule)} `;
  line += `in ${interfaceText(rule.inInterface, true)} out ${interfaceText(rule.outInterface, true)} `;
  line += `${rule.source?.inverted ? "!" : " "}${addressText(rule.source, true)} `;
  line += `${rule.destination?.inverted ? "!" : " "}-> ${addressText(rule.destination, true)}`;
  return `${line}  ${extensionsText(rule, true)}\n`;
}

function references(table: Table, chain: Chain): number {
  let count = 0;
  for (const other of table.chains.values()) for (const rule of other.rules) if (jumpTarget(rule) === chain.name) count++;
  return count;
}

function chainHeader(table: Table, chain: Chain, fmt: ListFormat): string {
  if (chain.hook !== null) {
    const c = chain.policyCounters;
    const counters = fmt.verbose ? ` ${countWithoutTable(c.packets, fmt.exact)} packets, ${countWithoutTable(c.bytes, fmt.exact)} bytes` : "";
    return `Chain ${chain.name} (policy ${chain.policy}${counters})`;
  }
  return `Chain ${chain.name} (${references(table, chain)} references)`;
}

export function listChains(table: Table, fmt: ListFormat): string {
  const all = listedChains(table);
  const chains = fmt.chain === null ? all : all.filter((c) => c.name === fmt.chain);
  if (fmt.chain !== null && fmt.ruleNumber !== null) {
    const rule = chains[0]?.rules[fmt.ruleNumber - 1];
    return rule ? `${ruleLine(rule, fmt.ruleNumber, fmt)}\n` : "";
  }
  const blocks = chains.map((chain) => {
    const lines = [chainHeader(table, chain, fmt), header(fmt)];
    chain.rules.forEach((rule, i) => lines.push(ruleLine(rule, i + 1, fmt)));
    return lines.map((l) => `${l}\n`).join("");
  });
  return blocks.join("\n");
}
