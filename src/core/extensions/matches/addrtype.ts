// -m addrtype: the routing type of the source and/or destination address, e.g. LOCAL for the host's
// own addresses (iptables' libxt_addrtype revision 1, the kernel's xt_addrtype).
import type { Hook } from "../../rules/hooks.ts";
import { ParameterProblem } from "../../rules/errors.ts";
import { defineMatch } from "../extension.ts";
import { formatNameList, parseNameList } from "./conntrack.ts";
import { joinParts } from "./ports.ts";

/** XT_ADDRTYPE_* flag bits of xt_addrtype_info_v1. */
export const XT_ADDRTYPE_INVERT_SOURCE = 0x1;
export const XT_ADDRTYPE_INVERT_DEST = 0x2;
export const XT_ADDRTYPE_LIMIT_IFACE_IN = 0x4;
export const XT_ADDRTYPE_LIMIT_IFACE_OUT = 0x8;

/** The route types (RTN_*), bit i for RTN value i, in the order iptables parses and prints them. */
export const ADDRESS_TYPES: readonly (readonly [string, number])[] = [
  "UNSPEC",
  "UNICAST",
  "LOCAL",
  "BROADCAST",
  "ANYCAST",
  "MULTICAST",
  "BLACKHOLE",
  "UNREACHABLE",
  "PROHIBIT",
  "THROW",
  "NAT",
  "XRESOLVE",
].map((name, i) => [name, 1 << i] as const);

export interface AddrtypeMatch {
  /** Route-type bits the source address must have one of; 0 when --src-type is not given. */
  source: number;
  /** Same for the destination address. */
  dest: number;
  /** XT_ADDRTYPE_* bits. */
  flags: number;
}

function parseTypes(arg: string): number {
  return parseNameList(arg, ADDRESS_TYPES, {
    middle: (rest) => `addrtype: bad type \`${rest}'`,
    last: (word) => `addrtype: bad type "${word}"`,
  });
}

/** Hooks where the kernel has no input / output interface to limit the look-up to. */
const NO_INPUT_INTERFACE: readonly Hook[] = ["OUTPUT", "POSTROUTING"];
const NO_OUTPUT_INTERFACE: readonly Hook[] = ["PREROUTING", "INPUT"];

export const addrtypeMatch = defineMatch<AddrtypeMatch>({
  // xt_addrtype: the route type of the address in the local table (HostView.addressType), limited
  // to the in or out interface when asked.
  compile(data) {
    const { source, dest, flags } = data;
    const invertSource = (flags & XT_ADDRTYPE_INVERT_SOURCE) !== 0;
    const invertDest = (flags & XT_ADDRTYPE_INVERT_DEST) !== 0;
    const limitIn = (flags & XT_ADDRTYPE_LIMIT_IFACE_IN) !== 0;
    const limitOut = (flags & XT_ADDRTYPE_LIMIT_IFACE_OUT) !== 0;
    return (ctx) => {
      const device = limitIn ? ctx.inInterface : limitOut ? ctx.outInterface : null;
      if (source !== 0 && ((source & ctx.host.addressType(ctx.source, device)) !== 0) === invertSource) return false;
      if (dest !== 0 && ((dest & ctx.host.addressType(ctx.destination, device)) !== 0) === invertDest) return false;
      return true;
    };
  },
  name: "addrtype",
  options: [
    { name: "src-type", hasArg: true, invertible: true },
    { name: "dst-type", hasArg: true, invertible: true },
    { name: "limit-iface-in", hasArg: false },
    { name: "limit-iface-out", hasArg: false },
  ],
  init: () => ({ source: 0, dest: 0, flags: 0 }),
  parse(data, option, arg, inverted) {
    switch (option) {
      case "src-type":
        data.source |= parseTypes(arg!);
        if (inverted) data.flags |= XT_ADDRTYPE_INVERT_SOURCE;
        return;
      case "dst-type":
        data.dest |= parseTypes(arg!);
        if (inverted) data.flags |= XT_ADDRTYPE_INVERT_DEST;
        return;
      case "limit-iface-in":
        data.flags |= XT_ADDRTYPE_LIMIT_IFACE_IN;
        return;
      case "limit-iface-out":
        data.flags |= XT_ADDRTYPE_LIMIT_IFACE_OUT;
        return;
    }
  },
  finalCheck(data) {
    if (data.source === 0 && data.dest === 0) {
      throw new ParameterProblem("addrtype: you must specify --src-type or --dst-type");
    }
    if ((data.flags & XT_ADDRTYPE_LIMIT_IFACE_IN) !== 0 && (data.flags & XT_ADDRTYPE_LIMIT_IFACE_OUT) !== 0) {
      throw new ParameterProblem(`addrtype: option "--limit-iface-in" cannot be used together with "--limit-iface-out".\n`);
    }
  },
  save(data) {
    return joinParts([
      data.source ? `${data.flags & XT_ADDRTYPE_INVERT_SOURCE ? "! " : ""}--src-type ${formatNameList(data.source, ADDRESS_TYPES)}` : "",
      data.dest ? `${data.flags & XT_ADDRTYPE_INVERT_DEST ? "! " : ""}--dst-type ${formatNameList(data.dest, ADDRESS_TYPES)}` : "",
      data.flags & XT_ADDRTYPE_LIMIT_IFACE_IN ? "--limit-iface-in" : "",
      data.flags & XT_ADDRTYPE_LIMIT_IFACE_OUT ? "--limit-iface-out" : "",
    ]);
  },
  print(data) {
    return joinParts([
      "ADDRTYPE match",
      data.source ? `src-type ${data.flags & XT_ADDRTYPE_INVERT_SOURCE ? "!" : ""}${formatNameList(data.source, ADDRESS_TYPES)}` : "",
      data.dest ? `dst-type ${data.flags & XT_ADDRTYPE_INVERT_DEST ? "!" : ""}${formatNameList(data.dest, ADDRESS_TYPES)}` : "",
      data.flags & XT_ADDRTYPE_LIMIT_IFACE_IN ? "limit-in" : "",
      data.flags & XT_ADDRTYPE_LIMIT_IFACE_OUT ? "limit-out" : "",
    ]);
  },
  checkRule(data, ctx) {
    // The kernel's addrtype_mt_checkentry_v1, answered with EINVAL. It sees the hook of a built-in
    // chain only: in a user chain the limitation passes, whatever jumps there later.
    const limitIn = (data.flags & XT_ADDRTYPE_LIMIT_IFACE_IN) !== 0;
    const limitOut = (data.flags & XT_ADDRTYPE_LIMIT_IFACE_OUT) !== 0;
    const refuse = (reason: string) => ({ errno: "Invalid argument", reason }) as const;
    if (limitIn && limitOut) return refuse("addrtype: both incoming and outgoing interface limitation cannot be selected");
    const hook = ctx.builtinHook;
    if (hook === null) return null;
    if (limitIn && NO_INPUT_INTERFACE.includes(hook)) return refuse("addrtype: input interface limitation not valid in POSTROUTING and OUTPUT");
    if (limitOut && NO_OUTPUT_INTERFACE.includes(hook)) return refuse("addrtype: output interface limitation not valid in PREROUTING and INPUT");
    return null;
  },
});
