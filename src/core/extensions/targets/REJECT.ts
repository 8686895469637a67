// -j REJECT: drop the packet and answer with an ICMP error or a TCP reset (libipt_REJECT, ipt_REJECT).
import { ParameterProblem } from "../../rules/errors.ts";
import { IPPROTO_TCP } from "../../net/protocols.ts";
import { defineTarget } from "../extension.ts";
import { asciiLower } from "./xtables-numbers.ts";

/** enum ipt_reject_with: the answer the kernel sends. */
export const IPT_ICMP_NET_UNREACHABLE = 0;
export const IPT_ICMP_HOST_UNREACHABLE = 1;
export const IPT_ICMP_PROT_UNREACHABLE = 2;
export const IPT_ICMP_PORT_UNREACHABLE = 3;
/** No longer accepted by iptables or the kernel. */
export const IPT_ICMP_ECHOREPLY = 4;
export const IPT_ICMP_NET_PROHIBITED = 5;
export const IPT_ICMP_HOST_PROHIBITED = 6;
export const IPT_TCP_RESET = 7;
export const IPT_ICMP_ADMIN_PROHIBITED = 8;

/** struct ipt_reject_info, plus the rule's protocol the kernel checks tcp-reset against. */
export interface RejectTarget {
  with: number;
  /** The rule's -p as the kernel's check sees it: the protocol number, 0 for none or when inverted. */
  entryProtocol: number;
}

/** The reply types by their value: the name iptables prints and the alias it also accepts. */
export const REJECT_TYPES: readonly (readonly [number, string, string])[] = [
  [IPT_ICMP_NET_UNREACHABLE, "icmp-net-unreachable", "net-unreach"],
  [IPT_ICMP_HOST_UNREACHABLE, "icmp-host-unreachable", "host-unreach"],
  [IPT_ICMP_PROT_UNREACHABLE, "icmp-proto-unreachable", "proto-unreach"],
  [IPT_ICMP_PORT_UNREACHABLE, "icmp-port-unreachable", "port-unreach"],
  [IPT_ICMP_NET_PROHIBITED, "icmp-net-prohibited", "net-prohib"],
  [IPT_ICMP_HOST_PROHIBITED, "icmp-host-prohibited", "host-prohib"],
  [IPT_TCP_RESET, "tcp-reset", "tcp-rst"],
  [IPT_ICMP_ADMIN_PROHIBITED, "icmp-admin-prohibited", "admin-prohib"],
];

function rejectName(value: number): string {
  return REJECT_TYPES.find(([v]) => v === value)?.[1] ?? String(value);
}

export const rejectTarget = defineTarget<RejectTarget>({
  name: "REJECT",
  options: [{ name: "reject-with", hasArg: true }],
  init: () => ({ with: IPT_ICMP_PORT_UNREACHABLE, entryProtocol: 0 }),
  parse(data, _option, arg) {
    // Any leading part of a name or alias, in any case, picks the first type it fits ("" too).
    const wanted = asciiLower(arg!);
    for (const [value, name, alias] of REJECT_TYPES) {
      if (name.startsWith(wanted) || alias.startsWith(wanted)) {
        data.with = value;
        return;
      }
    }
    // iptables also warns "--reject-with echo-reply no longer supported" for echo-reply/echoreply.
    throw new ParameterProblem(`unknown reject type "${arg}"`);
  },
  finalCheck(data, ctx) {
    data.entryProtocol = ctx.protocolInverted ? 0 : ctx.protocol;
  },
  save: (data) => `--reject-with ${rejectName(data.with)}`,
  print: (data) => `reject-with ${rejectName(data.with)}`,
  tables: ["filter"],
  hooks: ["INPUT", "FORWARD", "OUTPUT"],
  checkHooks(data) {
    if (data.with === IPT_ICMP_ECHOREPLY) return "REJECT: echo-reply is no longer supported";
    if (data.with === IPT_TCP_RESET && data.entryProtocol !== IPPROTO_TCP) {
      return "REJECT --reject-with tcp-reset is only valid with -p tcp";
    }
    return null;
  },
});
