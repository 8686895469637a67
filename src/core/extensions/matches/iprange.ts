// -m iprange: source and/or destination address within an inclusive range
// (iptables' libxt_iprange revision 1, the kernel's xt_iprange).
import { ParameterProblem } from "../../rules/errors.ts";
import { formatAddress } from "../../net/ipv4-address.ts";
import { defineMatch } from "../extension.ts";
import { parseUnsigned } from "../targets/xtables-numbers.ts";
import { joinParts } from "./ports.ts";

export interface AddressRange {
  from: number;
  to: number;
  inverted: boolean;
}

export interface IprangeMatch {
  source: AddressRange | null;
  destination: AddressRange | null;
}

/**
 * An address as libxtables' numeric parser reads it: up to four dot-separated bytes, each as
 * strtoul takes it in base 0 ("010" is 8, "0x1" is 1), missing trailing bytes zero ("10" is
 * 10.0.0.0), looking at the first 19 characters only. No host names.
 */
function parseNumericAddress(text: string): number | null {
  const parts = text.slice(0, 19).split(".");
  if (parts.length > 4) parts.splice(3, parts.length - 3, parts.slice(3).join("."));
  let addr = 0;
  for (let i = 0; i < 4; i++) {
    const octet = i < parts.length ? parseUnsigned(parts[i]!, 0, 255) : 0;
    if (octet === null) return null;
    addr = addr * 256 + octet;
  }
  return addr;
}

/** "FROM-TO", or one address for a range of one. */
function parseRange(text: string, option: string, inverted: boolean, warn: (text: string) => void): AddressRange {
  const dash = text.indexOf("-");
  const ends = dash < 0 ? [text, text] : [text.slice(0, dash), text.slice(dash + 1)];
  const [from, to] = ends.map((end) => {
    const addr = parseNumericAddress(end);
    if (addr === null) throw new ParameterProblem(`iprange: Bad value for "--${option}" option: "${end}"`);
    return addr;
  });
  // iptables keeps a reversed range, with a word on stderr that quotes the range as given.
  if (from! > to!) warn(`xt_iprange: range ${ends[0]}-${ends[1]} is reversed and will never match\n`);
  return { from: from!, to: to!, inverted };
}

const formatRange = (range: AddressRange): string => `${formatAddress(range.from)}-${formatAddress(range.to)}`;

export const iprangeMatch = defineMatch<IprangeMatch>({
  name: "iprange",
  options: [
    { name: "src-range", hasArg: true, invertible: true },
    { name: "dst-range", hasArg: true, invertible: true },
  ],
  init: () => ({ source: null, destination: null }),
  parse(data, option, arg, inverted, ctx) {
    const range = parseRange(arg!, option, inverted, (text) => ctx.warn?.(text));
    if (option === "src-range") data.source = range;
    else data.destination = range;
  },
  finalCheck(data) {
    if (!data.source && !data.destination) {
      throw new ParameterProblem("iprange match: You must specify `--src-range' or `--dst-range'");
    }
  },
  compile(data) {
    // xt_iprange's iprange_mt4: each given range must hold its address (inclusive at both ends)
    // unless inverted, where it must not. A reversed range (FROM above TO) holds nothing, so it
    // never matches, and its inversion always does.
    const source = data.source !== null, destination = data.destination !== null;
    const srcFrom = data.source?.from ?? 0, srcTo = data.source?.to ?? 0, srcInverted = data.source?.inverted ?? false;
    const dstFrom = data.destination?.from ?? 0, dstTo = data.destination?.to ?? 0, dstInverted = data.destination?.inverted ?? false;
    return (ctx) => {
      if (source) {
        const addr = ctx.source;
        if ((addr >= srcFrom && addr <= srcTo) === srcInverted) return false;
      }
      if (destination) {
        const addr = ctx.destination;
        if ((addr >= dstFrom && addr <= dstTo) === dstInverted) return false;
      }
      return true;
    };
  },
  save: (data) =>
    joinParts([
      data.source ? `${data.source.inverted ? "! " : ""}--src-range ${formatRange(data.source)}` : "",
      data.destination ? `${data.destination.inverted ? "! " : ""}--dst-range ${formatRange(data.destination)}` : "",
    ]),
  print: (data) =>
    joinParts([
      data.source ? `source IP range${data.source.inverted ? " !" : ""} ${formatRange(data.source)}` : "",
      data.destination ? `destination IP range${data.destination.inverted ? " !" : ""} ${formatRange(data.destination)}` : "",
    ]),
});
