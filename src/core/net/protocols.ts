import { parseCUnsigned } from "./c-number.ts";
import { PROTOCOL_TABLE } from "./protocol-names.ts";

export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

const byName = new Map<string, number>();
const byNumber = new Map<number, string>();
for (const [name, num, aliases] of PROTOCOL_TABLE) {
  if (!byName.has(name)) byName.set(name, num);
  for (const alias of aliases) if (!byName.has(alias)) byName.set(alias, num);
  if (!byNumber.has(num)) byNumber.set(num, name);
}
// iptables' own table (xtables_chain_protos), consulted after /etc/protocols.
const CHAIN_PROTOS: ReadonlyMap<string, number> = new Map([
  ["tcp", 6], ["sctp", 132], ["udp", 17], ["udplite", 136], ["icmp", 1], ["icmpv6", 58], ["ipv6-icmp", 58],
  ["esp", 50], ["ah", 51], ["ipv6-mh", 135], ["mh", 135], ["all", 0],
]);

/**
 * Parses `-p` as xtables_parse_protocol does, after iptables lowercased it: a number 0-255 (base
 * 0: "0x06" and "06" are tcp too), "all", a name or alias of /etc/protocols (compared exactly, so
 * upper-case aliases such as OSPFIGP never match), then iptables' own names. The number is kept to
 * one byte, as nf_tables compares it ("mptcp", 262, is tcp). Null when unknown.
 */
export function parseProtocol(text: string): number | null {
  const lower = text.toLowerCase();
  const num = parseCUnsigned(lower, 0, 255);
  if (num !== null) return num;
  if (lower === "all") return 0;
  const named = byName.get(lower) ?? CHAIN_PROTOS.get(lower);
  return named === undefined ? null : named & 0xff;
}

/** The name iptables-save prints for a protocol number, or null to print the number. */
export function protocolName(num: number): string | null {
  if (num === 0) return "all";
  return byNumber.get(num) ?? null;
}
