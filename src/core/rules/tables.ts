import type { Hook } from "./hooks.ts";

// The tables iptables knows for IPv4 and their built-in chains, in the order iptables lists them.
export const TABLE_NAMES = ["raw", "mangle", "filter", "nat"] as const;
export type TableName = (typeof TABLE_NAMES)[number];

export const BUILTIN_CHAINS: Readonly<Record<TableName, readonly Hook[]>> = {
  raw: ["PREROUTING", "OUTPUT"],
  mangle: ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"],
  filter: ["INPUT", "FORWARD", "OUTPUT"],
  nat: ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"],
};

/**
 * The order iptables-nft-save prints tables in: its table array (NFT_TABLE_MANGLE, SECURITY, RAW,
 * FILTER, NAT), whatever order they were created in.
 */
export const SAVE_ORDER: readonly TableName[] = ["mangle", "raw", "filter", "nat"];

export function isTableName(name: string): name is TableName {
  return (TABLE_NAMES as readonly string[]).includes(name);
}
