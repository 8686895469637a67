// -j TRACE: mark the packet so that every rule it meets is logged (xt_TRACE). iptables-nft turns it
// into nftables' `meta nftrace set 1`, which works in every table and chain, not only in raw.
import { defineTarget } from "../extension.ts";

/** TRACE carries no options. */
export type TraceTarget = Record<string, never>;

export const traceTarget = defineTarget<TraceTarget>({
  name: "TRACE",
  options: [],
  init: () => ({}),
  parse() {},
  save: () => "",
  print: () => "",
});
