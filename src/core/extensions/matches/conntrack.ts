// -m conntrack: the connection-tracking state, tuple, status, lifetime and direction of the packet's
// connection (iptables' libxt_conntrack revision 3, the kernel's xt_conntrack).
import { ParameterProblem } from "../../rules/errors.ts";
import { formatAddress, formatMask, maskToPrefix, prefixToMask } from "../../net/ipv4-address.ts";
import { parseProtocol } from "../../net/protocols.ts";
import { isCSpace, parseCUnsigned, strtoumax } from "../../net/c-number.ts";
import { hostAddresses, hostName, networkName } from "../../net/host-names.ts";
import type { PacketContext } from "../../engine/packet-context.ts";
import { defineMatch, type MatchFunction } from "../extension.ts";
import { bang } from "../format.ts";
import { joinParts, resolveServicePort } from "./ports.ts";

// ---- the kernel's numbers (uapi xt_conntrack.h, nf_conntrack_common.h) ---------------------------

/** --ctstate bits: XT_CONNTRACK_STATE_BIT(IP_CT_*), INVALID, and the SNAT/DNAT/UNTRACKED pseudo-states. */
export const CT_STATE_INVALID = 1 << 0;
export const CT_STATE_ESTABLISHED = 1 << 1; // 1 << (IP_CT_ESTABLISHED + 1)
export const CT_STATE_RELATED = 1 << 2; // 1 << (IP_CT_RELATED + 1)
export const CT_STATE_NEW = 1 << 3; // 1 << (IP_CT_NEW + 1)
export const CT_STATE_SNAT = 1 << 6; // 1 << (IP_CT_NUMBER + 1)
export const CT_STATE_DNAT = 1 << 7; // 1 << (IP_CT_NUMBER + 2)
export const CT_STATE_UNTRACKED = 1 << 8; // 1 << (IP_CT_NUMBER + 3)

/** --ctstatus bits: ct->status (IPS_*). NONE is the empty set. */
export const IPS_EXPECTED = 1 << 0;
export const IPS_SEEN_REPLY = 1 << 1;
export const IPS_ASSURED = 1 << 2;
export const IPS_CONFIRMED = 1 << 3;
export const IPS_SRC_NAT = 1 << 4;
export const IPS_DST_NAT = 1 << 5;

/** match_flags / invert_flags bits (XT_CONNTRACK_*). */
export const XT_CONNTRACK_STATE = 1 << 0;
export const XT_CONNTRACK_PROTO = 1 << 1;
export const XT_CONNTRACK_ORIGSRC = 1 << 2;
export const XT_CONNTRACK_ORIGDST = 1 << 3;
export const XT_CONNTRACK_REPLSRC = 1 << 4;
export const XT_CONNTRACK_REPLDST = 1 << 5;
export const XT_CONNTRACK_STATUS = 1 << 6;
export const XT_CONNTRACK_EXPIRES = 1 << 7;
export const XT_CONNTRACK_ORIGSRC_PORT = 1 << 8;
export const XT_CONNTRACK_ORIGDST_PORT = 1 << 9;
export const XT_CONNTRACK_REPLSRC_PORT = 1 << 10;
export const XT_CONNTRACK_REPLDST_PORT = 1 << 11;
/** With the bit set in invert_flags the match wants the REPLY direction, else ORIGINAL. */
export const XT_CONNTRACK_DIRECTION = 1 << 12;

/**
 * Names of the states, in the order iptables tries them when parsing (each may be abbreviated);
 * STATE_PRINT_ORDER is the order they are printed in.
 */
export const CT_STATE_NAMES: readonly (readonly [string, number])[] = [
  ["INVALID", CT_STATE_INVALID],
  ["NEW", CT_STATE_NEW],
  ["ESTABLISHED", CT_STATE_ESTABLISHED],
  ["RELATED", CT_STATE_RELATED],
  ["UNTRACKED", CT_STATE_UNTRACKED],
  ["SNAT", CT_STATE_SNAT],
  ["DNAT", CT_STATE_DNAT],
];

export const CT_STATE_PRINT_ORDER: readonly (readonly [string, number])[] = [
  ["INVALID", CT_STATE_INVALID],
  ["NEW", CT_STATE_NEW],
  ["RELATED", CT_STATE_RELATED],
  ["ESTABLISHED", CT_STATE_ESTABLISHED],
  ["UNTRACKED", CT_STATE_UNTRACKED],
  ["SNAT", CT_STATE_SNAT],
  ["DNAT", CT_STATE_DNAT],
];

const CT_STATUS_NAMES: readonly (readonly [string, number])[] = [
  ["NONE", 0],
  ["EXPECTED", IPS_EXPECTED],
  ["SEEN_REPLY", IPS_SEEN_REPLY],
  ["ASSURED", IPS_ASSURED],
  ["CONFIRMED", IPS_CONFIRMED],
];

// ---- parsing helpers shared with -m state and -m addrtype ----------------------------------------

/** strncasecmp(token, name, strlen(token)) == 0 for a non-empty token: a case-insensitive prefix. */
function isAbbreviationOf(token: string, name: string): boolean {
  if (token.length === 0 || token.length > name.length) return false;
  const lower = (s: string): string => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
  return lower(name.slice(0, token.length)) === lower(token);
}

export interface NameListErrors {
  /** A bad or empty word before a comma; gets the rest of the argument from that word on. */
  readonly middle: (rest: string) => string;
  /** A bad last word; gets that word. */
  readonly last: (word: string) => string;
  /** When set, the message for an empty last word (a trailing comma or an empty argument). */
  readonly emptyLast?: string;
}

/**
 * A comma-separated list of names, each possibly abbreviated, the first matching name in `names`
 * winning; returns the OR of their bits. The errors say which word was wrong as iptables does.
 */
export function parseNameList(arg: string, names: readonly (readonly [string, number])[], errors: NameListErrors): number {
  let mask = 0;
  let rest = arg;
  const lookUp = (word: string): number | null => {
    const found = names.find(([name]) => isAbbreviationOf(word, name));
    return found ? found[1] : null;
  };
  for (let comma = rest.indexOf(","); comma >= 0; comma = rest.indexOf(",")) {
    const bit = comma === 0 ? null : lookUp(rest.slice(0, comma));
    if (bit === null) throw new ParameterProblem(errors.middle(rest));
    mask |= bit;
    rest = rest.slice(comma + 1);
  }
  if (rest === "" && errors.emptyLast !== undefined) throw new ParameterProblem(errors.emptyLast);
  const bit = lookUp(rest);
  if (bit === null) throw new ParameterProblem(errors.last(rest));
  return mask | bit;
}

/** The names of the bits set in `mask`, comma-separated, in the given order. */
export function formatNameList(mask: number, names: readonly (readonly [string, number])[]): string {
  return names
    .filter(([, bit]) => bit !== 0 && (mask & bit) !== 0)
    .map(([name]) => name)
    .join(",");
}

/**
 * libxtables' xtables_strtoul on `text` from `start`: a C number (base 0, no minus sign) within
 * [min, max]; returns it and the index where it ended, or null.
 */
function xtablesStrtoul(text: string, start: number, min: bigint, max: bigint): { value: bigint; end: number } | null {
  const rest = text.slice(start);
  let i = 0;
  while (isCSpace(rest[i])) i++;
  if (rest[i] === "-") return null;
  const parsed = strtoumax(rest, 0);
  // strtoumax saturates at 2^64-1 (ERANGE), which is above every max used here.
  if (parsed === null || parsed.value < min || parsed.value > max) return null;
  return { value: parsed.value, end: start + parsed.end };
}

/**
 * inet_aton as glibc's getaddrinfo uses it for numeric hosts: 1 to 4 parts, each decimal, octal
 * (leading 0) or hex (0x), the last part filling the remaining bytes ("10.1" is 10.0.0.1).
 */
export function inetAton(text: string): number | null {
  const parts: number[] = [];
  let i = 0;
  for (;;) {
    if (!/[0-9]/.test(text[i] ?? "")) return null;
    let radix = 10;
    if (text[i] === "0") {
      if (text[i + 1] === "x" || text[i + 1] === "X") {
        radix = 16;
        i += 2;
      } else {
        radix = 8;
        i += 1;
      }
    }
    let value = 0;
    for (;;) {
      const c = text[i];
      if (c !== undefined && /[0-9]/.test(c)) {
        if (radix === 8 && (c === "8" || c === "9")) return null;
        value = value * radix + Number(c);
      } else if (radix === 16 && c !== undefined && /[a-fA-F]/.test(c)) {
        value = value * 16 + parseInt(c, 16);
      } else {
        break;
      }
      if (value > 0xffffffff) return null;
      i++;
    }
    if (text[i] === ".") {
      if (parts.length >= 3 || value > 0xff) return null;
      parts.push(value);
      i++;
      continue;
    }
    if (i !== text.length) return null;
    const limit = [0xffffffff, 0xffffff, 0xffff, 0xff][parts.length]!;
    if (value > limit) return null;
    let addr = 0;
    parts.forEach((part, n) => (addr += part * 2 ** (24 - 8 * n)));
    return (addr + value) >>> 0;
  }
}

/** A host as getaddrinfo resolves it: a numeric address or a name /etc/hosts gives (no DNS). */
function parseHost(text: string): number {
  const numeric = inetAton(text);
  if (numeric !== null) return numeric;
  const named = hostAddresses(text);
  if (named !== null) return named[0]!;
  throw new ParameterProblem("getaddrinfo: Name or service not known\n");
}

/** xtables_ipaddr_to_anyname: the host name, else the network name, else the number. */
function addressName(addr: number): string {
  return hostName(addr) ?? networkName(addr) ?? formatAddress(addr);
}

export interface AddressAndMask {
  readonly addr: number;
  readonly mask: number;
}

/**
 * "HOST[/MASK]" as libxtables' XTTYPE_HOSTMASK takes it. The address is kept as given (not masked);
 * MASK is a prefix length 0-32 (any C number), else a dotted mask, a mask with holes counting as /32.
 */
function parseHostMask(arg: string, option: string): AddressAndMask {
  const slash = arg.indexOf("/");
  if (slash < 0) return { addr: parseHost(arg), mask: 0xffffffff };
  const addr = parseHost(arg.slice(0, slash));
  const maskText = arg.slice(slash + 1);
  const prefix = parseCUnsigned(maskText, 0, 32);
  if (prefix !== null) return { addr, mask: prefixToMask(prefix) };
  const dotted = inetAton(maskText);
  if (dotted === null) {
    throw new ParameterProblem(
      `conntrack: bad value for option "--${option}", neither a valid network mask nor valid CIDR (0-32).\n`,
    );
  }
  const len = maskToPrefix(dotted);
  return { addr, mask: len >= 0 ? dotted : 0xffffffff };
}

export interface PortPair {
  readonly low: number;
  readonly high: number;
}

/** "PORT", "LOW:HIGH", ":HIGH", "LOW:" or ":" (XTTYPE_PORTRC); a lone port is LOW == HIGH. */
function parseConntrackPorts(arg: string, option: string): PortPair {
  const range = [0, 0xffff];
  const words = arg.split(":");
  let count = 0;
  let previous = 0;
  for (const word of words) {
    if (count === 2) throw new ParameterProblem(`conntrack: Too many components for option "--${option}" (max: 2)\n`);
    if (word !== "") {
      const port = resolveServicePort(word);
      if (port === null) throw new ParameterProblem(`Port "${word}" does not resolve to anything.\n`);
      // iptables 1.8.9 stored reversed ranges; later versions refuse them, and so does uptables.
      if (port < previous) throw new ParameterProblem(`Port range ${previous}-${port} is negative.\n`);
      previous = port;
      range[count] = port;
    }
    count++;
  }
  return { low: range[0]!, high: count >= 2 ? range[1]! : range[0]! };
}

/** "MIN", "MIN:MAX", ":MAX", "MIN:" (XTTYPE_UINT32RC): the remaining lifetime in seconds. */
function parseExpire(arg: string): { min: number; max: number } {
  const MAX = 0xffffffffn;
  const values: bigint[] = [];
  let lowest = 0n;
  let pos = 0;
  for (;;) {
    if (values.length === 2) throw new ParameterProblem(`conntrack: Too many components for option "--ctexpire" (max: 2)\n`);
    let value: bigint;
    let end: number;
    if (pos === arg.length || arg[pos] === ":") {
      value = values.length === 1 ? MAX : 0n;
      end = pos;
    } else {
      const parsed = xtablesStrtoul(arg, pos, 0n, MAX);
      if (parsed === null) {
        throw new ParameterProblem(`conntrack: bad value for option "--ctexpire" near "${arg.slice(pos)}", or out of range (0-${MAX}).\n`);
      }
      if (parsed.end !== arg.length && arg[parsed.end] !== ":") {
        throw new ParameterProblem(`conntrack: Argument to "--ctexpire" has unexpected characters near "${arg.slice(parsed.end)}".\n`);
      }
      // iptables 1.8.9 stored MIN > MAX; later versions refuse it (the lower bound rises), as uptables does.
      if (parsed.value < lowest) {
        throw new ParameterProblem(
          `conntrack: bad value for option "--ctexpire" near "${arg.slice(pos)}", or out of range (${lowest}-${MAX}).\n`,
        );
      }
      value = parsed.value;
      end = parsed.end;
      lowest = value;
    }
    values.push(value);
    if (end === arg.length) break;
    pos = end + 1;
  }
  return { min: Number(values[0]), max: Number(values[1] ?? values[0]) };
}

// ---- the match -----------------------------------------------------------------------------------

export interface ConntrackMatch {
  /** XT_CONNTRACK_* bits of the options given. */
  matchFlags: number;
  /** XT_CONNTRACK_* bits of the options given with `!` (DIRECTION: REPLY). */
  invertFlags: number;
  /** CT_STATE_* bits. */
  stateMask: number;
  /** IPS_* bits. */
  statusMask: number;
  /** --ctproto: the layer-4 protocol number. */
  l4proto: number;
  origSrc: AddressAndMask;
  origDst: AddressAndMask;
  replSrc: AddressAndMask;
  replDst: AddressAndMask;
  origSrcPort: PortPair;
  origDstPort: PortPair;
  replSrcPort: PortPair;
  replDstPort: PortPair;
  /** --ctexpire: remaining lifetime range in seconds, inclusive. */
  expiresMin: number;
  expiresMax: number;
}

const NO_ADDRESS: AddressAndMask = { addr: 0, mask: 0 };
const NO_PORT: PortPair = { low: 0, high: 0 };

type AddressField = "origSrc" | "origDst" | "replSrc" | "replDst";
type PortField = "origSrcPort" | "origDstPort" | "replSrcPort" | "replDstPort";

// In the order iptables prints them.
const ADDRESS_OPTIONS: readonly (readonly [string, AddressField, number])[] = [
  ["ctorigsrc", "origSrc", XT_CONNTRACK_ORIGSRC],
  ["ctorigdst", "origDst", XT_CONNTRACK_ORIGDST],
  ["ctreplsrc", "replSrc", XT_CONNTRACK_REPLSRC],
  ["ctrepldst", "replDst", XT_CONNTRACK_REPLDST],
];

const PORT_OPTIONS: readonly (readonly [string, PortField, number])[] = [
  ["ctorigsrcport", "origSrcPort", XT_CONNTRACK_ORIGSRC_PORT],
  ["ctorigdstport", "origDstPort", XT_CONNTRACK_ORIGDST_PORT],
  ["ctreplsrcport", "replSrcPort", XT_CONNTRACK_REPLSRC_PORT],
  ["ctrepldstport", "replDstPort", XT_CONNTRACK_REPLDST_PORT],
];

/** The --ctstate / --state argument: "Bad ctstate" errors naming the wrong word. */
export function parseCtStates(arg: string): number {
  return parseNameList(arg, CT_STATE_NAMES, {
    middle: (rest) => `Bad ctstate "${rest}"`,
    last: (word) => `Bad ctstate "${word}"`,
  });
}

/** The options in iptables' fixed order, with `prefix` "--" for iptables-save and "" for -L. */
function dump(data: ConntrackMatch, prefix: string, numeric: boolean): string {
  const has = (bit: number): boolean => (data.matchFlags & bit) !== 0;
  const not = (bit: number): string => bang((data.invertFlags & bit) !== 0);
  const address = ({ addr, mask }: AddressAndMask): string => {
    if (!numeric && addr === 0) return "anywhere";
    const maskText = mask === 0xffffffff ? "" : formatMask(mask);
    return `${numeric ? formatAddress(addr) : addressName(addr)}${maskText}`;
  };
  const parts: string[] = [];
  if (has(XT_CONNTRACK_STATE)) {
    parts.push(`${not(XT_CONNTRACK_STATE)}${prefix}ctstate ${formatNameList(data.stateMask, CT_STATE_PRINT_ORDER)}`);
  }
  if (has(XT_CONNTRACK_PROTO)) parts.push(`${not(XT_CONNTRACK_PROTO)}${prefix}ctproto ${data.l4proto}`);
  for (const [name, field, bit] of ADDRESS_OPTIONS) {
    if (has(bit)) parts.push(`${not(bit)}${prefix}${name} ${address(data[field])}`);
  }
  for (const [name, field, bit] of PORT_OPTIONS) {
    if (!has(bit)) continue;
    const { low, high } = data[field];
    parts.push(`${not(bit)}${prefix}${name} ${high === 0 || low === high ? low : `${low}:${high}`}`);
  }
  if (has(XT_CONNTRACK_STATUS)) {
    const names = data.statusMask === 0 ? "NONE" : formatNameList(data.statusMask, CT_STATUS_NAMES);
    parts.push(`${not(XT_CONNTRACK_STATUS)}${prefix}ctstatus ${names}`);
  }
  if (has(XT_CONNTRACK_EXPIRES)) {
    const range = data.expiresMin === data.expiresMax ? `${data.expiresMin}` : `${data.expiresMin}:${data.expiresMax}`;
    parts.push(`${not(XT_CONNTRACK_EXPIRES)}${prefix}ctexpire ${range}`);
  }
  if (has(XT_CONNTRACK_DIRECTION)) {
    parts.push(`${prefix}ctdir ${(data.invertFlags & XT_CONNTRACK_DIRECTION) !== 0 ? "REPLY" : "ORIGINAL"}`);
  }
  return joinParts(parts);
}

export const conntrackMatch = defineMatch<ConntrackMatch>({
  compile: compileConntrackMatch,
  name: "conntrack",
  // xt_conntrack's checkentry takes conntrack for the namespace (nf_ct_netns_get).
  usesConntrack: () => true,
  options: [
    { name: "ctstate", hasArg: true, invertible: true },
    { name: "ctproto", hasArg: true, invertible: true },
    { name: "ctorigsrc", hasArg: true, invertible: true },
    { name: "ctorigdst", hasArg: true, invertible: true },
    { name: "ctreplsrc", hasArg: true, invertible: true },
    { name: "ctrepldst", hasArg: true, invertible: true },
    { name: "ctstatus", hasArg: true, invertible: true },
    { name: "ctexpire", hasArg: true, invertible: true },
    { name: "ctorigsrcport", hasArg: true, invertible: true },
    { name: "ctorigdstport", hasArg: true, invertible: true },
    { name: "ctreplsrcport", hasArg: true, invertible: true },
    { name: "ctrepldstport", hasArg: true, invertible: true },
    { name: "ctdir", hasArg: true },
  ],
  init: () => ({
    matchFlags: 0,
    invertFlags: 0,
    stateMask: 0,
    statusMask: 0,
    l4proto: 0,
    origSrc: NO_ADDRESS,
    origDst: NO_ADDRESS,
    replSrc: NO_ADDRESS,
    replDst: NO_ADDRESS,
    origSrcPort: NO_PORT,
    origDstPort: NO_PORT,
    replSrcPort: NO_PORT,
    replDstPort: NO_PORT,
    expiresMin: 0,
    expiresMax: 0,
  }),
  parse(data, option, arg, inverted) {
    const text = arg!;
    const set = (bit: number): void => {
      data.matchFlags |= bit;
      if (inverted) data.invertFlags |= bit;
    };
    switch (option) {
      case "ctstate":
        data.stateMask = parseCtStates(text);
        set(XT_CONNTRACK_STATE);
        return;
      case "ctproto": {
        const proto = parseCUnsigned(text, 0, 255) ?? parseProtocol(text);
        if (proto === null) throw new ParameterProblem(`unknown protocol "${text}" specified`);
        // iptables 1.8.9 accepted protocol 0; later versions refuse it, and so does uptables.
        if (proto === 0) {
          throw new ParameterProblem(inverted ? "conntrack: condition would always match protocol" : "conntrack: rule would never match protocol");
        }
        data.l4proto = proto;
        set(XT_CONNTRACK_PROTO);
        return;
      }
      case "ctstatus":
        data.statusMask = parseNameList(text, CT_STATUS_NAMES, {
          middle: (rest) => `Bad ctstatus "${rest}"`,
          last: (word) => `Bad ctstatus "${word}"`,
        });
        set(XT_CONNTRACK_STATUS);
        return;
      case "ctexpire": {
        const { min, max } = parseExpire(text);
        data.expiresMin = min;
        data.expiresMax = max;
        set(XT_CONNTRACK_EXPIRES);
        return;
      }
      case "ctdir": {
        const upper = text.replace(/[a-z]/g, (c) => c.toUpperCase());
        if (upper !== "ORIGINAL" && upper !== "REPLY") {
          throw new ParameterProblem(`conntrack: Bad value for "--ctdir" option: "${text}"`);
        }
        data.matchFlags |= XT_CONNTRACK_DIRECTION;
        if (upper === "REPLY") data.invertFlags |= XT_CONNTRACK_DIRECTION;
        else data.invertFlags &= ~XT_CONNTRACK_DIRECTION;
        return;
      }
    }
    const address = ADDRESS_OPTIONS.find(([name]) => name === option);
    if (address) {
      data[address[1]] = parseHostMask(text, option);
      set(address[2]);
      return;
    }
    const port = PORT_OPTIONS.find(([name]) => name === option);
    if (port) {
      data[port[1]] = parseConntrackPorts(text, option);
      set(port[2]);
    }
  },
  finalCheck(data) {
    if (data.matchFlags === 0) throw new ParameterProblem("conntrack: At least one option is required");
  },
  save: (data) => dump(data, "--", true),
  print: (data, { numeric }) => dump(data, "", numeric),
});

// ---- per packet (xt_conntrack's conntrack_mt, revision 3) ------------------------------------------

function compileConntrackMatch(data: ConntrackMatch): MatchFunction {
  const given = data.matchFlags;
  const inv = data.invertFlags;
  const has = (bit: number): boolean => (given & bit) !== 0;
  const not = (bit: number): boolean => (inv & bit) !== 0;
  const { stateMask, statusMask, l4proto, origSrc, origDst, replSrc, replDst, origSrcPort, origDstPort, replSrcPort, replDstPort } = data;
  const { expiresMin, expiresMax } = data;
  const addressTest = (bit: number, wanted: AddressAndMask, node: 0 | 1, source: boolean) => {
    const want = (wanted.addr & wanted.mask) >>> 0;
    const mask = wanted.mask;
    const inverted = not(bit);
    return (ctx: PacketContext): boolean => {
      const table = ctx.conntrack;
      const at = ctx.ctId * 2 + node;
      const address = source ? table.tupleSrc(at) : table.tupleDst(at);
      return (((address & mask) >>> 0) === want) !== inverted;
    };
  };
  const portTest = (bit: number, wanted: PortPair, node: 0 | 1, source: boolean) => {
    const { low, high } = wanted;
    const inverted = not(bit);
    return (ctx: PacketContext): boolean => {
      const ports = ctx.conntrack.tuplePorts(ctx.ctId * 2 + node);
      const port = source ? ports >>> 16 : ports & 0xffff;
      return (port >= low && port <= high) !== inverted;
    };
  };
  const tests: ((ctx: PacketContext) => boolean)[] = [];
  if (has(XT_CONNTRACK_DIRECTION)) {
    const wantReply = not(XT_CONNTRACK_DIRECTION);
    tests.push((ctx) => (ctx.ctDirection === 1) === wantReply);
  }
  if (has(XT_CONNTRACK_ORIGSRC)) tests.push(addressTest(XT_CONNTRACK_ORIGSRC, origSrc, 0, true));
  if (has(XT_CONNTRACK_ORIGDST)) tests.push(addressTest(XT_CONNTRACK_ORIGDST, origDst, 0, false));
  if (has(XT_CONNTRACK_REPLSRC)) tests.push(addressTest(XT_CONNTRACK_REPLSRC, replSrc, 1, true));
  if (has(XT_CONNTRACK_REPLDST)) tests.push(addressTest(XT_CONNTRACK_REPLDST, replDst, 1, false));
  if (has(XT_CONNTRACK_PROTO)) {
    const inverted = not(XT_CONNTRACK_PROTO);
    tests.push((ctx) => (ctx.conntrack.protocol(ctx.ctId) === l4proto) !== inverted);
  }
  if (has(XT_CONNTRACK_ORIGSRC_PORT)) tests.push(portTest(XT_CONNTRACK_ORIGSRC_PORT, origSrcPort, 0, true));
  if (has(XT_CONNTRACK_ORIGDST_PORT)) tests.push(portTest(XT_CONNTRACK_ORIGDST_PORT, origDstPort, 0, false));
  if (has(XT_CONNTRACK_REPLSRC_PORT)) tests.push(portTest(XT_CONNTRACK_REPLSRC_PORT, replSrcPort, 1, true));
  if (has(XT_CONNTRACK_REPLDST_PORT)) tests.push(portTest(XT_CONNTRACK_REPLDST_PORT, replDstPort, 1, false));
  if (has(XT_CONNTRACK_STATUS)) {
    const inverted = not(XT_CONNTRACK_STATUS);
    tests.push((ctx) => ((ctx.conntrack.status(ctx.ctId) & statusMask) !== 0) !== inverted);
  }
  if (has(XT_CONNTRACK_EXPIRES)) {
    const inverted = not(XT_CONNTRACK_EXPIRES);
    tests.push((ctx) => {
      const seconds = Math.max(0, Math.floor((ctx.conntrack.expires(ctx.ctId) - ctx.now) / 1000));
      return (seconds >= expiresMin && seconds <= expiresMax) !== inverted;
    });
  }
  const checkState = has(XT_CONNTRACK_STATE);
  const stateInverted = not(XT_CONNTRACK_STATE);
  const count = tests.length;
  return (ctx) => {
    const tracked = ctx.ctId >= 0;
    if (checkState) {
      let bits = ctx.ctState;
      if (tracked) {
        const status = ctx.conntrack.status(ctx.ctId);
        if (status & IPS_SRC_NAT) bits |= CT_STATE_SNAT;
        if (status & IPS_DST_NAT) bits |= CT_STATE_DNAT;
      }
      if (((stateMask & bits) !== 0) === stateInverted) return false;
    }
    // Without a connection only --ctstate can say anything (INVALID, UNTRACKED).
    if (!tracked) return checkState;
    for (let i = 0; i < count; i++) if (!tests[i]!(ctx)) return false;
    return true;
  };
}
