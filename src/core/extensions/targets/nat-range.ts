// The address/port range that SNAT, DNAT, MASQUERADE and REDIRECT share: the kernel's
// struct nf_nat_range2 as plain numbers, its `[ipaddr[-ipaddr]][:port[-port[/base]]]` syntax
// parsed with iptables 1.8.9's wording, and its printing for iptables-save and iptables -L.
import { ParameterProblem } from "../../rules/errors.ts";
import { formatAddress } from "../../net/ipv4-address.ts";
import { parsePort } from "../../net/services.ts";
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from "../../net/protocols.ts";
import { joinParts } from "../matches/ports.ts";
import { parseUnsignedPrefix } from "./xtables-numbers.ts";

// The kernel's NF_NAT_RANGE_* flags (include/uapi/linux/netfilter/nf_nat.h).
export const NF_NAT_RANGE_MAP_IPS = 1 << 0;
export const NF_NAT_RANGE_PROTO_SPECIFIED = 1 << 1;
export const NF_NAT_RANGE_PROTO_RANDOM = 1 << 2;
export const NF_NAT_RANGE_PERSISTENT = 1 << 3;
export const NF_NAT_RANGE_PROTO_RANDOM_FULLY = 1 << 4;
export const NF_NAT_RANGE_PROTO_OFFSET = 1 << 5;
export const NF_NAT_RANGE_NETMAP = 1 << 6;

/**
 * What a NAT target maps to. Addresses are unsigned 32-bit numbers in host order, ports plain
 * numbers; a field means something only when its flag says so (MAP_IPS for the addresses,
 * PROTO_SPECIFIED for the ports, PROTO_OFFSET for `basePort`).
 */
export interface NatRange {
  flags: number;
  minAddr: number;
  maxAddr: number;
  minPort: number;
  maxPort: number;
  /**
   * The `/base` of a shifted port map (DNAT only: the kernel keeps it in revision 2 of the
   * target). SNAT, MASQUERADE and REDIRECT use revision 0, which has no room for it: the flag
   * stays, the base reads back as 0.
   */
  basePort: number;
}

export function emptyNatRange(): NatRange {
  return { flags: 0, minAddr: 0, maxAddr: 0, minPort: 0, maxPort: 0, basePort: 0 };
}

const IPPROTO_DCCP = 33;
const IPPROTO_SCTP = 132;

/**
 * Whether a port may be given for the rule's `-p` as it stands when the option is parsed
 * (iptables checks the protocol then, and ignores `!`; ICMP is accepted though not named).
 */
export function portsAllowed(protocol: number): boolean {
  return (
    protocol === IPPROTO_TCP ||
    protocol === IPPROTO_UDP ||
    protocol === IPPROTO_SCTP ||
    protocol === IPPROTO_DCCP ||
    protocol === IPPROTO_ICMP
  );
}

// ---- service names ---------------------------------------------------------------------------

/** /etc/services names that only an AppleTalk (ddp) line carries, which getservbyname(name, NULL) still finds. */
const DDP_ONLY_SERVICES: ReadonlyMap<string, number> = new Map([
  ["rtmp", 1],
  ["nbp", 2],
  ["zip", 6],
]);

/** xtables_service_to_port(name, NULL): a service name of any protocol; null when unknown. */
function serviceToPort(name: string): number | null {
  if (name === "" || /^[0-9]+$/.test(name)) return null;
  return parsePort(name, null) ?? DDP_ONLY_SERVICES.get(name) ?? null;
}

// ---- parsing -------------------------------------------------------------------------------

export interface RangeSyntax {
  /** Whether the rule's protocol allows ports (see portsAllowed). */
  readonly portsAllowed: boolean;
  /** Whether `/base` is kept (DNAT) or only flagged (the revision-0 targets). */
  readonly keepBase: boolean;
}

/** "port[-port[/base]]" into `range` (iptables' parse_ports). */
export function parsePorts(text: string, range: NatRange, syntax: RangeSyntax): void {
  if (!syntax.portsAllowed) throw new ParameterProblem("Need TCP, UDP, SCTP or DCCP with port specification");
  range.flags |= NF_NAT_RANGE_PROTO_SPECIFIED;

  let port: number;
  let rest: string;
  const first = parseUnsignedPrefix(text, 0, 0xffff);
  if (first !== null) {
    port = first.value;
    rest = first.rest;
  } else {
    const service = serviceToPort(text);
    if (service === null) throw new ParameterProblem(`Port \`${text}' not valid`);
    port = service;
    rest = "";
  }
  if (rest === "") {
    range.minPort = port;
    range.maxPort = port;
    return;
  }
  if (rest[0] === ":") throw new ParameterProblem("Invalid port:port syntax - use dash");
  if (rest[0] !== "-") throw new ParameterProblem(`Garbage after port value: \`${rest}'`);

  // A range: no service names for its upper end.
  const upperText = rest.slice(1);
  const upper = parseUnsignedPrefix(upperText, 0, 0xffff);
  if (upper === null) throw new ParameterProblem(`Port \`${upperText}' not valid`);
  if (upper.value < port) throw new ParameterProblem(`Port range \`${upperText}' funky`);
  range.minPort = port;
  range.maxPort = upper.value;
  const after = upper.rest;
  if (after === "") return;
  if (after[0] !== "/") throw new ParameterProblem(`Garbage after port range: \`${after}'`);

  // The base: a number (anything after it is ignored) or a service name.
  const baseText = after.slice(1);
  const base = parseUnsignedPrefix(baseText, 1, 0xffff);
  let basePort: number;
  if (base !== null) {
    basePort = base.value;
  } else {
    const service = serviceToPort(baseText);
    if (service === null) throw new ParameterProblem(`Port \`${baseText}' not valid`);
    basePort = service;
  }
  range.flags |= NF_NAT_RANGE_PROTO_OFFSET;
  range.basePort = syntax.keepBase ? basePort : 0;
}

/** A dotted quad as glibc's inet_pton(AF_INET) takes it: four decimal parts, no leading zeros. */
function parseInetPton(text: string): number | null {
  if (!/^(0|[1-9][0-9]{0,2})(\.(0|[1-9][0-9]{0,2})){3}$/.test(text)) return null;
  let value = 0;
  for (const part of text.split(".")) {
    const octet = Number(part);
    if (octet > 255) return null;
    value = value * 256 + octet;
  }
  return value >>> 0;
}

function parseAddress(text: string): number {
  const addr = parseInetPton(text);
  if (addr === null) throw new ParameterProblem(`Bad IP address "${text}"`);
  return addr;
}

/** "[ipaddr[-ipaddr]][:port[-port[/base]]]" into `range` (iptables' parse_to, IPv4). */
export function parseNatTo(text: string, range: NatRange, syntax: RangeSyntax): void {
  if (text.includes("[")) throw new ParameterProblem("Invalid address format");
  // One colon introduces the ports; more than one would be an IPv6 address, so none are taken.
  let colon = text.indexOf(":");
  if (colon >= 0 && text.indexOf(":", colon + 1) >= 0) colon = -1;
  let addresses = text;
  if (colon >= 0) {
    parsePorts(text.slice(colon + 1), range, syntax);
    // No address before the colon (iptables also takes two characters as "[]").
    if (colon === 0 || colon === 2) return;
    addresses = text.slice(0, colon);
  }
  range.flags |= NF_NAT_RANGE_MAP_IPS;
  const dash = addresses.indexOf("-");
  if (dash < 0) {
    range.minAddr = range.maxAddr = parseAddress(addresses);
    return;
  }
  range.minAddr = parseAddress(addresses.slice(0, dash));
  range.maxAddr = parseAddress(addresses.slice(dash + 1));
}

// ---- printing ------------------------------------------------------------------------------

/** "1.1.1.1-1.1.1.10:1000-2000/30" as iptables prints a range; "" when it maps nothing. */
export function formatNatRange(range: NatRange): string {
  let out = "";
  if (range.flags & NF_NAT_RANGE_MAP_IPS) {
    out += formatAddress(range.minAddr);
    if (range.maxAddr !== range.minAddr) out += `-${formatAddress(range.maxAddr)}`;
  }
  if (range.flags & NF_NAT_RANGE_PROTO_SPECIFIED) {
    out += `:${range.minPort}`;
    if (range.maxPort !== range.minPort) out += `-${range.maxPort}`;
    if (range.flags & NF_NAT_RANGE_PROTO_OFFSET) out += `/${range.basePort}`;
  }
  return out;
}

/**
 * The range after `label` (none when empty; its leading ":" dropped with `portsOnly`), then the
 * flags, each after `flagPrefix`: "--to-destination 1.1.1.1:80 --random" for iptables-save,
 * "to:1.1.1.1:80 random" for iptables -L.
 */
export function describeNatRange(range: NatRange, label: string, flagPrefix: string, portsOnly: boolean): string {
  let text = formatNatRange(range);
  if (portsOnly && text.startsWith(":")) text = text.slice(1);
  return joinParts([
    text === "" ? "" : `${label}${text}`,
    range.flags & NF_NAT_RANGE_PROTO_RANDOM ? `${flagPrefix}random` : "",
    range.flags & NF_NAT_RANGE_PROTO_RANDOM_FULLY ? `${flagPrefix}random-fully` : "",
    range.flags & NF_NAT_RANGE_PERSISTENT ? `${flagPrefix}persistent` : "",
  ]);
}

/** Whether the range was given at all (`--to-source`/`--to-destination` always set one of these). */
export function natRangeGiven(range: NatRange): boolean {
  return (range.flags & (NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED)) !== 0;
}
