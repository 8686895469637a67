// The `rules` text of a lab: iptables command lines as an article prints them for a shell.
// `sudo ` is dropped, a trailing `\` continues the line, `#` outside quotes starts a comment, and
// words are split as a POSIX shell would (single quotes, double quotes, backslash), without any
// expansion: a lab never runs a shell for its rules.
import type { RuleLine } from "./format.ts";

export class CommandLineError extends Error {}

/** Splits one logical line into words; throws CommandLineError for an unterminated quote. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote === "'") {
      if (ch === "'") quote = null;
      else word += ch;
      continue;
    }
    if (quote === '"') {
      if (ch === '"') quote = null;
      else if (ch === "\\" && i + 1 < line.length && '"\\$`'.includes(line[i + 1]!)) word += line[++i]!;
      else word += ch;
      continue;
    }
    if (ch === " " || ch === "\t") {
      if (word !== null) words.push(word);
      word = null;
      continue;
    }
    if (ch === "#" && word === null) break; // a comment: only where a word could start, as in sh
    word ??= "";
    if (ch === "'" || ch === '"') quote = ch;
    else if (ch === "\\" && i + 1 < line.length) word += line[++i]!;
    else word += ch;
  }
  if (quote !== null) throw new CommandLineError(`unterminated ${quote === "'" ? "single" : "double"} quote`);
  if (word !== null) words.push(word);
  return words;
}

/** Joins `\`-continued lines; each result keeps the 1-based number of its first physical line. */
function logicalLines(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let pending: { line: number; text: string } | null = null;
  text.split("\n").forEach((physical, i) => {
    const continued = /\\\s*$/.test(physical);
    const body = continued ? physical.replace(/\\\s*$/, " ") : physical;
    pending = pending === null ? { line: i + 1, text: body } : { line: pending.line, text: pending.text + body };
    if (!continued) {
      out.push(pending);
      pending = null;
    }
  });
  if (pending !== null) out.push(pending);
  return out;
}

/**
 * The iptables command lines of a `rules` text; problems are returned with the line they are on
 * (`line N: ...`) so the loader can name the field.
 */
export function parseRuleLines(text: string): { lines: RuleLine[]; problems: string[] } {
  const lines: RuleLine[] = [];
  const problems: string[] = [];
  for (const logical of logicalLines(text)) {
    let words: string[];
    try {
      words = shellWords(logical.text);
    } catch (error) {
      problems.push(`line ${logical.line}: ${(error as Error).message}`);
      continue;
    }
    if (words[0] === "sudo") words.shift();
    if (words.length === 0) continue;
    if (words[0] !== "iptables") {
      problems.push(`line ${logical.line}: must be an iptables command (got "${words[0]}")`);
      continue;
    }
    lines.push({ text: logical.text.trim().replace(/^sudo\s+/, ""), args: words.slice(1) });
  }
  return { lines, problems };
}
