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
// iptables' own table (xtables_chain_protos) wins where /etc/protocols is silent.
for (const [name, num] of [["all", 0], ["tcp", 6], ["udp", 17], ["udplite", 136], ["icmp", 1], ["esp", 50], ["ah", 51], ["sctp", 132], ["mh", 135]] as const) {
  if (!byName.has(name)) byName.set(name, num);
}

/** Parses `-p` as iptables does: a number 0-255, "all", or a name (case-insensitive fallback). */
export function parseProtocol(text: string): number | null {
  if (/^[0-9]+$/.test(text)) {
    const num = Number(text);
    return num <= 255 ? num : null;
  }
  if (text === "all") return 0;
  const exact = byName.get(text);
  if (exact !== undefined) return exact;
  const lower = byName.get(text.toLowerCase());
  return lower ?? null;
}

/** The name iptables-save prints for a protocol number, or null to print the number. */
export function protocolName(num: number): string | null {
  if (num === 0) return "all";
  return byNumber.get(num) ?? null;
}
