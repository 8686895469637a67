// -m mark: the packet's firewall mark, under a mask (iptables' libxt_mark revision 1, the kernel's xt_mark).
import { ParameterProblem } from "../../rules/errors.ts";
import { defineMatch } from "../extension.ts";
import { parseUnsignedPrefix } from "../targets/xtables-numbers.ts";

export interface MarkMatch {
  /** Matches when (mark & mask) == value. */
  value: number;
  mask: number;
  inverted: boolean;
  given: boolean;
}

const ALL_BITS = 0xffffffff;

/**
 * "VALUE[/MASK]" as libxtables' XTTYPE_MARKMASK32 reads it (each 32-bit, strtoul in base 0), with
 * its messages naming the extension: "mark: bad integer value for option "--mark", or out of range."
 */
export function parseMarkMask(text: string, ext: string, option: string): { value: number; mask: number } {
  const badValue = () => new ParameterProblem(`${ext}: bad integer value for option "--${option}", or out of range.\n`);
  const value = parseUnsignedPrefix(text, 0, ALL_BITS);
  if (value === null) throw badValue();
  if (value.rest === "") return { value: value.value, mask: ALL_BITS };
  if (!value.rest.startsWith("/")) {
    throw new ParameterProblem(`${ext}: trailing garbage after value for option "--${option}".\n`);
  }
  const mask = parseUnsignedPrefix(value.rest.slice(1), 0, ALL_BITS);
  if (mask === null) throw badValue();
  if (mask.rest !== "") throw new ParameterProblem(`${ext}: trailing garbage after value for option "--${option}".\n`);
  return { value: value.value, mask: mask.value };
}

/** "0x5" or "0x5/0xff" as iptables prints a mark in hex; the mask only when it is not all ones. */
export function formatMarkMask(value: number, mask: number): string {
  return `0x${value.toString(16)}${mask === ALL_BITS ? "" : `/0x${mask.toString(16)}`}`;
}

export const markMatch = defineMatch<MarkMatch>({
  name: "mark",
  options: [{ name: "mark", hasArg: true, invertible: true }],
  init: () => ({ value: 0, mask: ALL_BITS, inverted: false, given: false }),
  parse(data, option, arg, inverted) {
    Object.assign(data, parseMarkMask(arg!, "mark", option));
    data.inverted = inverted;
    data.given = true;
  },
  finalCheck(data) {
    if (!data.given) throw new ParameterProblem(`mark: option "--mark" must be specified\n`);
  },
  compile(data) {
    // xt_mark: (skb->mark & mask) == value, `!` inverting. Bits of the value outside the mask make
    // a rule that never matches (and whose inversion always does), as in the kernel.
    const value = data.value >>> 0, mask = data.mask >>> 0, inverted = data.inverted;
    return (ctx) => (((ctx.mark & mask) >>> 0) === value) !== inverted;
  },
  save: (data) => `${data.inverted ? "! " : ""}--mark ${formatMarkMask(data.value, data.mask)}`,
  print: (data) => `mark match${data.inverted ? " !" : ""} ${formatMarkMask(data.value, data.mask)}`,
});
