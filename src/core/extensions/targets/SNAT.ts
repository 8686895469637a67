// -j SNAT: rewrite the source address and/or port of a connection's first packet
// (iptables' SNAT target, revision 0: a `/base` is flagged but not kept).
import { ParameterProblem } from "../../rules/errors.ts";
import { defineTarget } from "../extension.ts";
import { NF_ACCEPT } from "../../engine/verdict.ts";
import {
  describeNatRange,
  emptyNatRange,
  natRangeGiven,
  NF_NAT_RANGE_PERSISTENT,
  NF_NAT_RANGE_PROTO_RANDOM,
  NF_NAT_RANGE_PROTO_RANDOM_FULLY,
  parseNatTo,
  portsAllowed,
  type NatRange,
} from "./nat-range.ts";

/** --to-source as one range, with --random / --random-fully / --persistent as its flags. */
export type SnatTarget = NatRange;

export const snatTarget = defineTarget<SnatTarget>({
  name: "SNAT",
  // NAT needs connections: the target's checkentry takes conntrack for the namespace (nf_ct_netns_get).
  usesConntrack: () => true,
  tables: ["nat"],
  hooks: ["POSTROUTING", "INPUT"],
  options: [
    { name: "to-source", hasArg: true },
    { name: "random", hasArg: false },
    { name: "random-fully", hasArg: false },
    { name: "persistent", hasArg: false },
  ],
  init: emptyNatRange,
  // The binding itself is made by the engine once the nat table has run (nf_nat_setup_info);
  // the target only says which range it wants.
  compile(data) {
    const request = { kind: "SNAT", range: data } as const;
    return (ctx) => {
      ctx.natRequest = request;
      return NF_ACCEPT;
    };
  },
  parse(data, option, arg, _inverted, ctx) {
    switch (option) {
      case "to-source":
        parseNatTo(arg!, data, { portsAllowed: portsAllowed(ctx.protocol), keepBase: false });
        return;
      case "random":
        data.flags |= NF_NAT_RANGE_PROTO_RANDOM;
        return;
      case "random-fully":
        data.flags |= NF_NAT_RANGE_PROTO_RANDOM_FULLY;
        return;
      case "persistent":
        data.flags |= NF_NAT_RANGE_PERSISTENT;
        return;
    }
  },
  finalCheck(data) {
    if (!natRangeGiven(data)) throw new ParameterProblem('SNAT: option "--to-source" must be specified\n');
  },
  save: (data) => describeNatRange(data, "--to-source ", "--", false),
  print: (data) => describeNatRange(data, "to:", "", false),
});
