// -j TRACE: mark the packet so that every rule it meets is logged (xt_TRACE). iptables-nft turns it
// into nftables' `meta nftrace set 1`, which works in every table and chain, not only in raw.
import { defineTarget, type TargetFunction } from "../extension.ts";
import { XT_CONTINUE } from "../../engine/verdict.ts";

/** TRACE carries no options. */
export type TraceTarget = Record<string, never>;

export const traceTarget = defineTarget<TraceTarget>({
  name: "TRACE",
  options: [],
  init: () => ({}),
  parse() {},
  /** xt_TRACE sets skb->nf_trace; the engine reports the walk of a traced packet. */
  compile(): TargetFunction {
    return (ctx) => {
      ctx.traced = true;
      return XT_CONTINUE;
    };
  },
  save: () => "",
  print: () => "",
});
