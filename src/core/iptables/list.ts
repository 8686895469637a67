// `iptables -L`: the chains of a table as columns, byte for byte as iptables-nft 1.8.9 prints them.
import { formatAddress, maskToPrefix } from "../net/ipv4-address.ts";
import { protocolName } from "../net/protocols.ts";
import type { AddressMatch, Chain, InterfaceMatch, Rule, Table } from "../rules/model.ts";
import { chainsInOrder } from "../rules/model.ts";
import { jumpTarget, targetLabel } from "./rule-format.ts";

export interface ListFormat {
  readonly chain: string | null;
  readonly ruleNumber: number | null;
  readonly numeric: boolean;
  readonly verbose: boolean;
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

function addressColumn(match: AddressMatch | null, numeric: boolean): string {
  const inverted = match?.inverted ?? false;
  let text: string;
  if (!match || match.mask === 0) {
    text = numeric ? "0.0.0.0/0" : "anywhere";
  } else {
    const prefix = maskToPrefix(match.mask);
    const maskText = prefix === 32 ? "" : prefix >= 0 ? `/${prefix}` : `/${formatAddress(match.mask)}`;
    text = formatAddress(match.addr) + maskText;
  }
  return `${inverted ? "!" : " "}${padRight(text, 19)} `;
}

function interfaceText(match: InterfaceMatch | null, numeric: boolean): string {
  const name = match ? match.name : numeric ? "*" : "any";
  return `${match?.inverted ? "!" : ""}${name}`;
}

function ruleLine(rule: Rule, num: number, fmt: ListFormat): string {
  let line = "";
  if (fmt.lineNumbers) line += `${padRight(String(num), 4)} `;
  if (fmt.verbose) line += formatCount(rule.counters.packets, fmt.exact) + formatCount(rule.counters.bytes, fmt.exact);
  line += `${padRight(targetLabel(rule), 9)} `;
  line += rule.protocolInverted ? "!" : " ";
  const pname = fmt.numeric ? String(rule.protocol) : (protocolName(rule.protocol) ?? String(rule.protocol));
  line += padRight(pname, 5);
  line += `${rule.fragment?.inverted ? "!" : "-"}${rule.fragment ? "f" : "-"} `;
  if (fmt.verbose) {
    line += ` ${padRight(interfaceText(rule.inInterface, fmt.numeric), 6)} `;
    line += `${padRight(interfaceText(rule.outInterface, fmt.numeric), 6)} `;
  }
  line += addressColumn(rule.source, fmt.numeric);
  line += addressColumn(rule.destination, fmt.numeric);
  if (rule.target.kind === "goto") line += "[goto] ";
  for (const use of rule.matches) {
    const text = use.ext.print(use.data, { numeric: fmt.numeric });
    line += text ? ` ${text}` : "";
  }
  if (rule.target.kind === "extension") {
    const text = rule.target.ext.print(rule.target.data, { numeric: fmt.numeric });
    line += text ? ` ${text}` : "";
  }
  return line;
}

function references(table: Table, chain: Chain): number {
  let count = 0;
  for (const other of table.chains.values()) for (const rule of other.rules) if (jumpTarget(rule) === chain.name) count++;
  return count;
}

function chainHeader(table: Table, chain: Chain, fmt: ListFormat): string {
  if (chain.hook !== null) {
    const counters = fmt.verbose
      ? ` ${fmt.exact ? chain.policyCounters.packets : formatCount(chain.policyCounters.packets, false).trim()} packets, ${
          fmt.exact ? chain.policyCounters.bytes : formatCount(chain.policyCounters.bytes, false).trim()
        } bytes`
      : "";
    return `Chain ${chain.name} (policy ${chain.policy}${counters})`;
  }
  return `Chain ${chain.name} (${references(table, chain)} references)`;
}

export function listChains(table: Table, fmt: ListFormat): string {
  const chains = fmt.chain === null ? chainsInOrder(table) : [table.chains.get(fmt.chain)!];
  if (fmt.chain !== null && fmt.ruleNumber !== null) {
    const rule = chains[0]!.rules[fmt.ruleNumber - 1];
    return rule ? `${ruleLine(rule, fmt.ruleNumber, fmt)}\n` : "";
  }
  const blocks = chains.map((chain) => {
    const lines = [chainHeader(table, chain, fmt), header(fmt)];
    chain.rules.forEach((rule, i) => lines.push(ruleLine(rule, i + 1, fmt)));
    return lines.map((l) => `${l}\n`).join("");
  });
  return blocks.join("\n");
}
