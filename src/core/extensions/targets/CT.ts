// -j CT: set up the connection tracking of a new connection before it is tracked: no tracking at
// all, a helper, events, a zone, a timeout policy (libxt_CT revision 2, xt_CT). Raw table only.
import { ParameterProblem } from "../../rules/errors.ts";
import { IPPROTO_TCP, IPPROTO_UDP } from "../../net/protocols.ts";
import type { Hook } from "../../rules/hooks.ts";
import type { TableName } from "../../rules/tables.ts";
import { defineTarget, type RuleCheckContext, type RuleRefusal, type TargetFunction } from "../extension.ts";
import { XT_CONTINUE } from "../../engine/verdict.ts";
import { parseCUnsigned } from "../../net/c-number.ts";
import { asciiLower, firstBytes, truncateBytes } from "./xtables-numbers.ts";

/** XT_CT_* bits of xt_ct_target_info_v1.flags. */
export const XT_CT_NOTRACK = 0x01;
/** Set by -j NOTRACK, which is CT --notrack under its old name. */
export const XT_CT_NOTRACK_ALIAS = 0x02;
export const XT_CT_ZONE_DIR_ORIG = 0x04;
export const XT_CT_ZONE_DIR_REPL = 0x08;
export const XT_CT_ZONE_MARK = 0x10;

/** sizeof the helper and timeout name fields, NUL included. */
export const CT_HELPER_SIZE = 16;
export const CT_TIMEOUT_SIZE = 32;

/** struct xt_ct_target_info_v1. */
export interface CtTarget {
  flags: number;
  zone: number;
  /** Bit 1 << IPCT_* of each conntrack event to report. */
  ctEvents: number;
  /** Bit 1 << IPEXP_* of each expectation event to report. */
  expEvents: number;
  /** Conntrack helper name; "" for none. */
  helper: string;
  /** Timeout policy name; "" for none. */
  timeout: string;
}

/** Conntrack events by name, with their IPCT_* bit numbers, in the order iptables prints them. */
export const CT_EVENTS: readonly (readonly [string, number])[] = [
  ["new", 0],
  ["related", 1],
  ["destroy", 2],
  ["reply", 3],
  ["assured", 4],
  ["protoinfo", 5],
  ["helper", 6],
  ["mark", 7],
  ["natseqinfo", 8],
  ["secmark", 9],
];

/** Expectation events (IPEXP_*). */
export const EXP_EVENTS: readonly (readonly [string, number])[] = [["new", 0]];

/**
 * The kernel's built-in conntrack helpers and the protocols they serve; `--helper` must name one
 * for the rule's protocol (userspace helpers from nfct are not modelled).
 */
export const KERNEL_HELPERS: ReadonlyMap<string, readonly number[]> = new Map([
  ["amanda", [IPPROTO_UDP]],
  ["ftp", [IPPROTO_TCP]],
  ["irc", [IPPROTO_TCP]],
  ["netbios-ns", [IPPROTO_UDP]],
  ["pptp", [IPPROTO_TCP]],
  ["Q.931", [IPPROTO_TCP]],
  ["RAS", [IPPROTO_UDP]],
  ["sane", [IPPROTO_TCP]],
  ["sip", [IPPROTO_TCP, IPPROTO_UDP]],
  ["snmp", [IPPROTO_UDP]],
  ["snmp_trap", [IPPROTO_UDP]],
  ["tftp", [IPPROTO_UDP]],
]);

/**
 * The kernel gives back only the first 32 bytes of the target's data (the size of revision 0's),
 * so a timeout name is listed with its first 4 bytes.
 */
const TIMEOUT_BYTES_SHOWN = 4;

function parseEvents(table: readonly (readonly [string, number])[], text: string): number {
  let mask = 0;
  for (const name of text.split(",")) {
    const found = table.find(([n]) => n === name);
    if (!found) throw new ParameterProblem(`Unknown event type "${name}"`);
    mask |= 1 << found[1];
  }
  return mask;
}

function formatEvents(table: readonly (readonly [string, number])[], mask: number): string {
  return table
    .filter(([, bit]) => mask & (1 << bit))
    .map(([name]) => name)
    .join(",");
}

function parseZone(data: CtTarget, option: string, text: string): void {
  if (option === "zone-orig") data.flags |= XT_CT_ZONE_DIR_ORIG;
  if (option === "zone-reply") data.flags |= XT_CT_ZONE_DIR_REPL;
  data.zone = 0;
  if (asciiLower(text) === "mark") {
    data.flags |= XT_CT_ZONE_MARK;
    return;
  }
  const value = parseCUnsigned(text, 0, 0xffff);
  if (value === null) throw new ParameterProblem(`Cannot parse ${text} as a zone ID`);
  data.zone = value;
}

function zoneText(prefix: string, data: CtTarget): string {
  const dirs = data.flags & (XT_CT_ZONE_DIR_ORIG | XT_CT_ZONE_DIR_REPL);
  const suffix = dirs === XT_CT_ZONE_DIR_ORIG ? "-orig" : dirs === XT_CT_ZONE_DIR_REPL ? "-reply" : "";
  return `${prefix}${suffix} ${data.flags & XT_CT_ZONE_MARK ? "mark" : data.zone}`;
}

/** The options as iptables lists them, each after `dashes` ("--" for iptables-save, "" for -L). */
function describe(data: CtTarget, dashes: string): string[] {
  const parts: string[] = [];
  if (data.flags & XT_CT_NOTRACK) parts.push(`${dashes}notrack`);
  if (data.helper !== "") parts.push(`${dashes}helper ${data.helper}`);
  if (data.timeout !== "") parts.push(`${dashes}timeout ${firstBytes(data.timeout, TIMEOUT_BYTES_SHOWN)}`);
  if (data.ctEvents) parts.push(`${dashes}ctevents ${formatEvents(CT_EVENTS, data.ctEvents)}`);
  if (data.expEvents) parts.push(`${dashes}expevents ${formatEvents(EXP_EVENTS, data.expEvents)}`);
  if (data.flags & XT_CT_ZONE_MARK || data.zone) parts.push(zoneText(`${dashes}zone`, data));
  return parts;
}

/** What iptables-save prints after "-j CT" (nothing for -j NOTRACK). */
export function saveCt(data: CtTarget): string {
  if (data.flags & XT_CT_NOTRACK_ALIAS) return "";
  return describe(data, "--").join(" ");
}

/** What `iptables -L` prints for CT and NOTRACK. */
export function printCt(data: CtTarget): string {
  if (data.flags & XT_CT_NOTRACK_ALIAS) return "NOTRACK";
  return ["CT", ...describe(data, "")].join(" ");
}

/**
 * The kernel's checks of a CT target (xt_ct_tg_check) when the rule is added, in any chain: a
 * helper, then a timeout policy, is looked up for the rule's protocol (none when -p is missing or
 * inverted). xt_ct_set_helper answers ENOENT both for a missing protocol and a missing helper;
 * xt_ct_set_timeout EINVAL for a missing protocol, ENOENT for a missing policy.
 */
export function checkCt(data: CtTarget, ctx: RuleCheckContext): RuleRefusal | null {
  if (data.flags & XT_CT_NOTRACK) return null;
  const protocol = ctx.protocolInverted ? 0 : ctx.protocol;
  const missing = (reason: string): RuleRefusal => ({ errno: "No such file or directory", reason });
  if (data.helper !== "") {
    if (protocol === 0) return missing("CT --helper needs a -p protocol (not inverted)");
    const protocols = KERNEL_HELPERS.get(data.helper);
    if (!protocols || !protocols.includes(protocol)) return missing(`CT: no such helper "${data.helper}" for this protocol`);
  }
  if (data.timeout !== "") {
    if (protocol === 0) return { errno: "Invalid argument", reason: "CT --timeout needs a -p protocol (not inverted)" };
    // uptables has no timeout policies (nfct timeout add).
    return missing(`CT: no such timeout policy "${data.timeout}"`);
  }
  return null;
}

/**
 * The per-packet face of CT and NOTRACK (xt_ct_target): --notrack leaves the packet untracked, which
 * the engine's conntrack step then honours (state UNTRACKED, no entry). A packet that already has its
 * conntrack (one looping back from OUTPUT through lo keeps the entry, or its untracked mark, from its
 * first pass) is left as it is, as the kernel ignores it when skb->_nfct is set.
 *
 * Not modelled, the rule is accepted and the packet goes on unchanged: --helper (uptables has no
 * conntrack helpers, so no RELATED expectations for FTP, SIP, ...), --zone* (one zone, 0, for every
 * connection), --ctevents/--expevents (there is no ctnetlink event listener), --timeout (refused
 * when the rule is loaded anyway, for want of timeout policies).
 */
export function compileCt(data: CtTarget): TargetFunction {
  if (!(data.flags & XT_CT_NOTRACK)) return () => XT_CONTINUE;
  return (ctx) => {
    if (ctx.ctId < 0) ctx.notrack = true;
    return XT_CONTINUE;
  };
}

export const CT_TABLES: readonly TableName[] = ["raw"];
export const CT_HOOKS: readonly Hook[] = ["PREROUTING", "OUTPUT"];

export function newCtTarget(flags = 0): CtTarget {
  return { flags, zone: 0, ctEvents: 0, expEvents: 0, helper: "", timeout: "" };
}

/** xt_ct_tg_check takes conntrack for the namespace unless the rule only untracks (--notrack). */
export function ctUsesConntrack(data: CtTarget): boolean {
  return (data.flags & XT_CT_NOTRACK) === 0;
}

export const ctTarget = defineTarget<CtTarget>({
  name: "CT",
  options: [
    { name: "notrack", hasArg: false },
    { name: "helper", hasArg: true },
    { name: "timeout", hasArg: true },
    { name: "ctevents", hasArg: true },
    { name: "expevents", hasArg: true },
    { name: "zone-orig", hasArg: true },
    { name: "zone-reply", hasArg: true },
    { name: "zone", hasArg: true },
  ],
  init: () => newCtTarget(),
  parse(data, option, arg) {
    switch (option) {
      case "notrack":
        data.flags |= XT_CT_NOTRACK;
        return;
      case "helper":
        data.helper = truncateBytes(arg!, CT_HELPER_SIZE);
        return;
      case "timeout":
        data.timeout = truncateBytes(arg!, CT_TIMEOUT_SIZE);
        return;
      case "ctevents":
        data.ctEvents = parseEvents(CT_EVENTS, arg!);
        return;
      case "expevents":
        data.expEvents = parseEvents(EXP_EVENTS, arg!);
        return;
      case "zone":
      case "zone-orig":
      case "zone-reply":
        parseZone(data, option, arg!);
        return;
    }
  },
  compile: compileCt,
  save: saveCt,
  print: printCt,
  tables: CT_TABLES,
  hooks: CT_HOOKS,
  checkRule: checkCt,
  usesConntrack: ctUsesConntrack,
});
