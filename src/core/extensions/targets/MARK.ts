// -j MARK: change the packet's nfmark (libxt_MARK revision 2, xt_MARK). Every option comes down to
// one operation, mark = (mark & ~mask) ^ value, which is what the kernel keeps and iptables-save prints.
import { ParameterProblem } from "../../rules/errors.ts";
import { defineTarget, type TargetFunction } from "../extension.ts";
import { XT_CONTINUE } from "../../engine/verdict.ts";
import { parseIntegerOption, parseUnsignedPrefix } from "./xtables-numbers.ts";

const UINT32_MAX = 0xffffffff;

/** struct xt_mark_tginfo2, plus which options were given (for iptables' own checks). */
export interface MarkTarget {
  /** XORed into the mark after the mask bits are cleared. */
  mark: number;
  /** The bits cleared first. */
  mask: number;
  /** Bit 1 << id of every option given (ids as in OPTION_IDS). */
  given: number;
}

/** iptables' option ids, which decide the order of its "cannot be used together" checks. */
const OPTION_IDS: Readonly<Record<string, number>> = {
  "set-mark": 0,
  "and-mark": 1,
  "or-mark": 2,
  "xor-mark": 3,
  "set-xmark": 4,
};

/** The options in iptables' table order (its getopt order too). */
const OPTION_ORDER = ["set-xmark", "set-mark", "and-mark", "or-mark", "xor-mark"] as const;

/** "value[/mask]" as libxtables reads a mark (mask 0xffffffff when absent). */
export function parseMarkMask(ext: string, option: string, text: string): { mark: number; mask: number } {
  const bad = (): ParameterProblem =>
    new ParameterProblem(`${ext}: bad integer value for option "--${option}", or out of range.\n`);
  const first = parseUnsignedPrefix(text, 0, UINT32_MAX);
  if (first === null) throw bad();
  let mask = UINT32_MAX;
  let rest = first.rest;
  if (rest.startsWith("/")) {
    const second = parseUnsignedPrefix(rest.slice(1), 0, UINT32_MAX);
    if (second === null) throw bad();
    mask = second.value;
    rest = second.rest;
  }
  if (rest !== "") throw new ParameterProblem(`${ext}: trailing garbage after value for option "--${option}".\n`);
  return { mark: first.value, mask };
}

const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;

export const markTarget = defineTarget<MarkTarget>({
  name: "MARK",
  options: OPTION_ORDER.map((name) => ({ name, hasArg: true })),
  init: () => ({ mark: 0, mask: 0, given: 0 }),
  parse(data, option, arg) {
    switch (option) {
      case "set-xmark": {
        const { mark, mask } = parseMarkMask("MARK", option, arg!);
        data.mark = mark;
        data.mask = mask;
        break;
      }
      case "set-mark": {
        const { mark, mask } = parseMarkMask("MARK", option, arg!);
        data.mark = mark;
        data.mask = (mark | mask) >>> 0;
        break;
      }
      case "and-mark":
        data.mark = 0;
        data.mask = ~parseIntegerOption("MARK", option, arg!, 0, UINT32_MAX) >>> 0;
        break;
      case "or-mark": {
        const value = parseIntegerOption("MARK", option, arg!, 0, UINT32_MAX);
        data.mark = value;
        data.mask = value;
        break;
      }
      case "xor-mark":
        data.mark = parseIntegerOption("MARK", option, arg!, 0, UINT32_MAX);
        data.mask = 0;
        break;
    }
    data.given |= 1 << OPTION_IDS[option]!;
  },
  finalCheck(data) {
    if (data.given === 0) {
      throw new ParameterProblem("MARK: One of the --set-xmark, --{and,or,xor,set}-mark options is required");
    }
    // All five options exclude each other; iptables names the first pair in its table and id order.
    for (const entry of OPTION_ORDER) {
      if (!(data.given & (1 << OPTION_IDS[entry]!))) continue;
      for (const [other, id] of Object.entries(OPTION_IDS).sort((a, b) => a[1] - b[1])) {
        if (other === entry || !(data.given & (1 << id))) continue;
        throw new ParameterProblem(`MARK: option "--${entry}" cannot be used together with "--${other}".\n`);
      }
    }
  },
  /** xt_mark's mark_tg: clear the mask bits, XOR the value in, go on with the next rule. */
  compile(data): TargetFunction {
    const keep = ~data.mask;
    const value = data.mark;
    return (ctx) => {
      ctx.mark = ((ctx.mark & keep) ^ value) >>> 0;
      return XT_CONTINUE;
    };
  },
  save: (data) => `--set-xmark ${hex(data.mark)}/${hex(data.mask)}`,
  print(data) {
    if (data.mark === 0) return `MARK and ${hex(~data.mask)}`;
    if (data.mark === data.mask) return `MARK or ${hex(data.mark)}`;
    if (data.mask === 0) return `MARK xor ${hex(data.mark)}`;
    if (data.mask === UINT32_MAX) return `MARK set ${hex(data.mark)}`;
    return `MARK xset ${hex(data.mark)}/${hex(data.mask)}`;
  },
});
