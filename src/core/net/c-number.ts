// Numbers as the C library reads them for iptables: strtoumax (leading blanks, an optional "+",
// "0x" for hex and a leading "0" for octal in base 0) behind libxtables' xtables_strtoui, which
// also refuses a minus sign, anything left after the number, and values outside [min, max].

/** C's isspace() in the "C" locale. */
export function isCSpace(ch: string | undefined): boolean {
  return ch === " " || ch === "\t" || ch === "\n" || ch === "\v" || ch === "\f" || ch === "\r";
}

function digitValue(ch: string | undefined): number {
  if (ch === undefined) return 99;
  const code = ch.charCodeAt(0);
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x61 && code <= 0x7a) return code - 0x61 + 10;
  if (code >= 0x41 && code <= 0x5a) return code - 0x41 + 10;
  return 99;
}

/**
 * strtoumax(text, &end, base): the value (saturated at 2^64-1, and wrapped round for a leading
 * "-", as C does) and where it stopped; null when no digit was converted.
 */
export function strtoumax(text: string, base = 0): { value: bigint; end: number } | null {
  let i = 0;
  while (isCSpace(text[i])) i++;
  let negative = false;
  if (text[i] === "+" || text[i] === "-") {
    negative = text[i] === "-";
    i++;
  }
  let radix = base;
  if ((radix === 0 || radix === 16) && text[i] === "0" && (text[i + 1] === "x" || text[i + 1] === "X") && digitValue(text[i + 2]) < 16) {
    i += 2;
    radix = 16;
  } else if (radix === 0) {
    radix = text[i] === "0" ? 8 : 10;
  }
  const start = i;
  let value = 0n;
  const max = (1n << 64n) - 1n;
  while (i < text.length && digitValue(text[i]) < radix) {
    value = value * BigInt(radix) + BigInt(digitValue(text[i]));
    if (value > max) value = max + 1n;
    i++;
  }
  if (i === start) return null;
  if (value > max) return { value: max, end: i };
  return { value: negative ? ((max + 1n - value) & max) : value, end: i };
}

/**
 * xtables_strtoui(text, NULL, &value, min, max) with base 0 (or `base`): the whole text must be one
 * unsigned number within [min, max]; null otherwise.
 */
export function parseCUnsigned(text: string, min: number, max: number, base = 0): number | null {
  let i = 0;
  while (isCSpace(text[i])) i++;
  if (text[i] === "-") return null;
  const parsed = strtoumax(text, base);
  if (parsed === null || parsed.end !== text.length) return null;
  if (parsed.value < BigInt(min) || parsed.value > BigInt(max)) return null;
  return Number(parsed.value);
}
