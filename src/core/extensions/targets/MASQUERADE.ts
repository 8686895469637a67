// -j MASQUERADE: SNAT to the address of the interface the packet leaves by, optionally to a port
// range (iptables' MASQUERADE target, revision 0: a `/base` is flagged but not kept).
import { defineTarget } from "../extension.ts";
import { NF_ACCEPT } from "../../engine/verdict.ts";
import {
  describeNatRange,
  emptyNatRange,
  NF_NAT_RANGE_PROTO_RANDOM,
  NF_NAT_RANGE_PROTO_RANDOM_FULLY,
  parsePorts,
  portsAllowed,
  type NatRange,
} from "./nat-range.ts";

/** --to-ports as the range's ports (never MAP_IPS), with --random / --random-fully as its flags. */
export type MasqueradeTarget = NatRange;

export const masqueradeTarget = defineTarget<MasqueradeTarget>({
  name: "MASQUERADE",
  // NAT needs connections: the target's checkentry takes conntrack for the namespace (nf_ct_netns_get).
  usesConntrack: () => true,
  tables: ["nat"],
  hooks: ["POSTROUTING"],
  options: [
    { name: "to-ports", hasArg: true },
    { name: "random", hasArg: false },
    { name: "random-fully", hasArg: false },
  ],
  init: emptyNatRange,
  // The binding itself is made by the engine once the nat table has run (nf_nat_setup_info);
  // the target only says which range it wants.
  compile(data) {
    const request = { kind: "MASQUERADE", range: data } as const;
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
      case "random-fully":
        data.flags |= NF_NAT_RANGE_PROTO_RANDOM_FULLY;
        return;
    }
  },
  save: (data) => describeNatRange(data, "--to-ports ", "--", true),
  print: (data) => describeNatRange(data, "masq ports: ", "", true),
});
