// -m icmp: the type and code of ICMP messages (iptables' libipt_icmp, the kernel's ip_tables icmp match).
import { ParameterProblem } from "../../rules/errors.ts";
import { IPPROTO_ICMP } from "../../net/protocols.ts";
import { defineMatch } from "../extension.ts";
import { asciiLower, parseUnsignedPrefix } from "../targets/xtables-numbers.ts";

export interface IcmpMatch {
  /** 255 stands for any type (the kernel's convention). */
  type: number;
  codeMin: number;
  codeMax: number;
  inverted: boolean;
  given: boolean;
}

const ANY_TYPE = 0xff;
const ALL_CODES = { min: 0, max: 0xff };

/** The names iptables knows, in its order: the first entry of a type/code range is the one printed. */
const ICMP_NAMES: readonly (readonly [name: string, type: number, codeMin: number, codeMax: number])[] = [
  ["any", 255, 0, 255],
  ["echo-reply", 0, 0, 255],
  ["pong", 0, 0, 255],
  ["destination-unreachable", 3, 0, 255],
  ["network-unreachable", 3, 0, 0],
  ["host-unreachable", 3, 1, 1],
  ["protocol-unreachable", 3, 2, 2],
  ["port-unreachable", 3, 3, 3],
  ["fragmentation-needed", 3, 4, 4],
  ["source-route-failed", 3, 5, 5],
  ["network-unknown", 3, 6, 6],
  ["host-unknown", 3, 7, 7],
  ["network-prohibited", 3, 9, 9],
  ["host-prohibited", 3, 10, 10],
  ["TOS-network-unreachable", 3, 11, 11],
  ["TOS-host-unreachable", 3, 12, 12],
  ["communication-prohibited", 3, 13, 13],
  ["host-precedence-violation", 3, 14, 14],
  ["precedence-cutoff", 3, 15, 15],
  ["source-quench", 4, 0, 255],
  ["redirect", 5, 0, 255],
  ["network-redirect", 5, 0, 0],
  ["host-redirect", 5, 1, 1],
  ["TOS-network-redirect", 5, 2, 2],
  ["TOS-host-redirect", 5, 3, 3],
  ["echo-request", 8, 0, 255],
  ["ping", 8, 0, 255],
  ["router-advertisement", 9, 0, 255],
  ["router-solicitation", 10, 0, 255],
  ["time-exceeded", 11, 0, 255],
  ["ttl-exceeded", 11, 0, 255],
  ["ttl-zero-during-transit", 11, 0, 0],
  ["ttl-zero-during-reassembly", 11, 1, 1],
  ["parameter-problem", 12, 0, 255],
  ["ip-header-bad", 12, 0, 0],
  ["required-option-missing", 12, 1, 1],
  ["timestamp-request", 13, 0, 255],
  ["timestamp-reply", 14, 0, 255],
  ["address-mask-request", 17, 0, 255],
  ["address-mask-reply", 18, 0, 255],
];

/** "N" or "N:M" at the start of `text` (each 0-255, as strtoul reads them in base 0); null when there is none. */
function scanByteRange(text: string): { min: number; max: number; rest: string } | null {
  const first = parseUnsignedPrefix(text, 0, 255);
  if (first === null) return null;
  if (!first.rest.startsWith(":")) return { min: first.value, max: first.value, rest: first.rest };
  const second = parseUnsignedPrefix(first.rest.slice(1), 0, 255);
  if (second === null) return null;
  return { min: first.value, max: second.value, rest: second.rest };
}

/** A name (any unambiguous prefix, case-insensitive), "TYPE", or "TYPE/CODE[:CODE]". */
function parseIcmpType(text: string): { type: number; codeMin: number; codeMax: number } {
  const lower = asciiLower(text);
  let found: (typeof ICMP_NAMES)[number] | null = null;
  for (const entry of ICMP_NAMES) {
    if (!asciiLower(entry[0]).startsWith(lower)) continue;
    if (found) throw new ParameterProblem(`Ambiguous ICMP type \`${text}': \`${found[0]}' or \`${entry[0]}'?`);
    found = entry;
  }
  if (found) return { type: found[1], codeMin: found[2], codeMax: found[3] };

  const types = scanByteRange(text);
  if (types === null) throw new ParameterProblem(`Unknown ICMP type \`${text}'`);
  let codes = { ...ALL_CODES, rest: types.rest };
  if (types.rest.startsWith("/")) {
    const scanned = scanByteRange(types.rest.slice(1));
    if (scanned === null) throw new ParameterProblem(`Unknown ICMP code \`${text}'`);
    codes = scanned;
  }
  if (codes.rest !== "") throw new ParameterProblem(`unknown character ${codes.rest[0]}`);
  if (types.min !== types.max) throw new ParameterProblem("ICMP type range not supported");
  return { type: types.min, codeMin: codes.min, codeMax: codes.max };
}

const allCodes = (data: IcmpMatch): boolean => data.codeMin === ALL_CODES.min && data.codeMax === ALL_CODES.max;

export const icmpMatch = defineMatch<IcmpMatch>({
  name: "icmp",
  options: [{ name: "icmp-type", hasArg: true, invertible: true }],
  init: () => ({
    type: ANY_TYPE,
    codeMin: ALL_CODES.min,
    codeMax: ALL_CODES.max,
    inverted: false,
    given: false,
  }),
  parse(data, _option, arg, inverted) {
    Object.assign(data, parseIcmpType(arg!));
    data.inverted = inverted;
    data.given = true;
  },
  finalCheck(data) {
    if (!data.given) throw new ParameterProblem(`icmp: option "--icmp-type" must be specified\n`);
  },
  // xt_check_match's protocol test (the match's .proto): iptables leaves it to the kernel, so a
  // rule without `-p icmp` is refused when added, in any chain (exit 4).
  checkRule: (_data, ctx) =>
    ctx.protocol === IPPROTO_ICMP && !ctx.protocolInverted
      ? null
      : { errno: "Invalid argument", reason: "the icmp match is only valid for -p icmp" },
  compile(data) {
    // ip_tables' icmp_match: type 255 matches every message whatever the codes say; otherwise the
    // type must be equal and the code within the inclusive range. `!` inverts that test only: a
    // non-first fragment (no ICMP header) never matches, inverted or not.
    const anyType = data.type === ANY_TYPE;
    const type = data.type, codeMin = data.codeMin, codeMax = data.codeMax, inverted = data.inverted;
    return (ctx) => {
      if (ctx.isLaterFragment || ctx.protocol !== IPPROTO_ICMP) return false;
      if (!ctx.hasTransport) {
        // No ICMP header to examine: the kernel drops the packet (hotdrop).
        ctx.hotdrop = true;
        return false;
      }
      const code = ctx.icmpCode;
      return (anyType || (ctx.icmpType === type && code >= codeMin && code <= codeMax)) !== inverted;
    };
  },
  save(data) {
    // Later iptables (and its .t tests) keep "255/255" apart from "any"; 1.8.9 saved both as "any".
    const value = data.type === ANY_TYPE && allCodes(data) ? "any" : `${data.type}${allCodes(data) ? "" : `/${data.codeMin}`}`;
    return `${data.inverted ? "! " : ""}--icmp-type ${value}`;
  },
  print(data, { numeric }) {
    const bang = data.inverted ? "!" : "";
    const named = numeric ? undefined : ICMP_NAMES.find(([, t, lo, hi]) => t === data.type && lo === data.codeMin && hi === data.codeMax);
    if (named) return `icmp ${bang}${named[0]}`;
    const codes = allCodes(data) ? "" : data.codeMin === data.codeMax ? ` code ${data.codeMin}` : ` codes ${data.codeMin}-${data.codeMax}`;
    // iptables 1.8.9 prints "icmptype 8" (no space) but "icmp !type 8" when inverted.
    return `icmp${bang ? " !" : ""}type ${data.type}${codes}`;
  },
});
