// -j DNAT: rewrite the destination address and/or port of a connection's first packet
// (iptables' DNAT target, revision 2, which keeps the `/base` of a shifted port map).
import { ParameterProblem } from "../../rules/errors.ts";
import { defineTarget } from "../extension.ts";
import { NF_ACCEPT } from "../../engine/verdict.ts";
import {
  describeNatRange,
  emptyNatRange,
  natRangeGiven,
  NF_NAT_RANGE_PERSISTENT,
  NF_NAT_RANGE_PROTO_RANDOM,
  parseNatTo,
  portsAllowed,
  type NatRange,
} from "./nat-range.ts";

/** --to-destination as one range, with --random / --persistent as its flags. */
export type DnatTarget = NatRange;

export const dnatTarget = defineTarget<DnatTarget>({
  name: "DNAT",
  // NAT needs connections: the target's checkentry takes conntrack for the namespace (nf_ct_netns_get).
  usesConntrack: () => true,
  tables: ["nat"],
  hooks: ["PREROUTING", "OUTPUT"],
  options: [
    { name: "to-destination", hasArg: true },
    { name: "random", hasArg: false },
    { name: "persistent", hasArg: false },
  ],
  init: emptyNatRange,
  // The binding itself is made by the engine once the nat table has run (nf_nat_setup_info);
  // the target only says which range it wants.
  compile(data) {
    const request = { kind: "DNAT", range: data } as const;
    return (ctx) => {
      ctx.natRequest = request;
      return NF_ACCEPT;
    };
  },
  parse(data, option, arg, _inverted, ctx) {
    switch (option) {
      case "to-destination":
        parseNatTo(arg!, data, { portsAllowed: portsAllowed(ctx.protocol), keepBase: true });
        return;
      case "random":
        data.flags |= NF_NAT_RANGE_PROTO_RANDOM;
        return;
      case "persistent":
        data.flags |= NF_NAT_RANGE_PERSISTENT;
        return;
    }
  },
  finalCheck(data) {
    if (!natRangeGiven(data)) throw new ParameterProblem('DNAT: option "--to-destination" must be specified\n');
  },
  save: (data) => describeNatRange(data, "--to-destination ", "--", false),
  print: (data) => describeNatRange(data, "to:", "", false),
});
