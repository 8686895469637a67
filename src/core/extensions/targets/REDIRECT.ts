// -j REDIRECT: DNAT to the host itself (the address of the incoming interface, or loopback for
// locally generated packets), optionally to a port range (iptables' REDIRECT target, revision 0).
import { ParameterProblem } from "../../rules/errors.ts";
import { defineTarget } from "../extension.ts";
import { NF_ACCEPT } from "../../engine/verdict.ts";
import {
  describeNatRange,
  emptyNatRange,
  NF_NAT_RANGE_PROTO_OFFSET,
  NF_NAT_RANGE_PROTO_RANDOM,
  parsePorts,
  portsAllowed,
  type NatRange,
} from "./nat-range.ts";

/** --to-ports as the range's ports (never MAP_IPS), with --random as its flag. */
export type RedirectTarget = NatRange;

export const redirectTarget = defineTarget<RedirectTarget>({
  name: "REDIRECT",
  // NAT needs connections: the target's checkentry takes conntrack for the namespace (nf_ct_netns_get).
  usesConntrack: () => true,
  tables: ["nat"],
  hooks: ["PREROUTING", "OUTPUT"],
  options: [
    { name: "to-ports", hasArg: true },
    { name: "random", hasArg: false },
  ],
  init: emptyNatRange,
  // The binding itself is made by the engine once the nat table has run (nf_nat_setup_info);
  // the target only says which range it wants.
  compile(data) {
    const request = { kind: "REDIRECT", range: data } as const;
    return (ctx) => {
      ctx.natRequest = request;
      return NF_ACCEPT;
    };
  },
  parse(data, option, arg, _inverted, ctx) {
    switch (option) {
      case "to-ports":
        parsePorts(arg!, data, { portsAllowed: portsAllowed(ctx.protocol), keepBase: false });
        return;
      case "random":
        data.flags |= NF_NAT_RANGE_PROTO_RANDOM;
        return;
    }
  },
  finalCheck(data) {
    // Revision 0 has no room for a shifted port map.
    if (data.flags & NF_NAT_RANGE_PROTO_OFFSET) {
      throw new ParameterProblem("Shifted portmap ranges not supported with this kernel");
    }
  },
  save: (data) => describeNatRange(data, "--to-ports ", "--", true),
  print: (data) => describeNatRange(data, "redir ports ", "", true),
});
