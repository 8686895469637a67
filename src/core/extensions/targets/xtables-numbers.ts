// Option values as libxtables reads them for the targets: numbers followed by more text ("1/0xff"),
// its integer option types with their range message, and fixed-size C string fields that keep
// only their first bytes. Numbers themselves are read by net/c-number.ts (strtoumax's rules).
import { ParameterProblem } from "../../rules/errors.ts";
import { isCSpace, parseCUnsigned, strtoumax } from "../../net/c-number.ts";

/**
 * xtables_strtoul_base with an end pointer: the number at the start of `text` and the text after it,
 * or null when there is no number, it is negative, or it lies outside [min, max].
 */
export function parseUnsignedPrefix(text: string, min: number, max: number, base = 0): { value: number; rest: string } | null {
  let i = 0;
  while (isCSpace(text[i])) i++;
  if (text[i] === "-") return null;
  const parsed = strtoumax(text, base);
  if (parsed === null) return null;
  if (parsed.value < BigInt(min) || parsed.value > BigInt(max)) return null;
  return { value: Number(parsed.value), rest: text.slice(parsed.end) };
}

/** xtables_strtoul_base without an end pointer: the whole text must be the number (see net/c-number.ts). */
export const parseUnsigned = parseCUnsigned;

/**
 * An option of libxtables' integer types (XTTYPE_UINT8/16/32) with its range check and its message,
 * e.g. `NFLOG: bad value for option "--nflog-group", or out of range (0-65535).`
 */
export function parseIntegerOption(ext: string, option: string, text: string, min: number, max: number): number {
  const value = parseCUnsigned(text, min, max);
  if (value === null) {
    throw new ParameterProblem(`${ext}: bad value for option "--${option}", or out of range (${min}-${max}).\n`);
  }
  return value;
}

/**
 * A string as the kernel's fixed-size char array keeps it: at most `size - 1` bytes of UTF-8.
 * A character cut in the middle is left out whole (iptables would keep its first bytes).
 */
export function truncateBytes(text: string, size: number): string {
  const max = size - 1;
  if (Buffer.byteLength(text) <= max) return text;
  let out = "";
  let used = 0;
  for (const ch of text) {
    const len = Buffer.byteLength(ch);
    if (used + len > max) break;
    out += ch;
    used += len;
  }
  return out;
}

/** The first `count` bytes of a string, whole characters only (see truncateBytes). */
export function firstBytes(text: string, count: number): string {
  return truncateBytes(text, count + 1);
}

/** strncasecmp-style folding: only ASCII letters change case. */
export function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
}
