// Paths to the shared corpus (../shared/corpus beside the repository) and readers for its formats.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const CORPUS = resolve(REPO_ROOT, "../shared/corpus");

export function corpusFiles(sub: string, suffix = ""): string[] {
  const dir = join(CORPUS, sub);
  if (!existsSync(dir)) throw new Error(`corpus folder ${dir} is missing: the tests need ../shared/corpus beside the repository`);
  return readdirSync(dir)
    .filter((f) => f.endsWith(suffix))
    .sort()
    .map((f) => join(dir, f));
}

export function readCorpus(path: string): string {
  return readFileSync(path, "utf8");
}

/** One test line of an iptables .t file. */
export interface TLine {
  readonly file: string;
  readonly lineNo: number;
  readonly table: string;
  readonly chains: readonly string[];
  readonly rule: string;
  /** The text iptables-save must print after "-A CHAIN " (for OK). */
  readonly expected: string;
  readonly result: "OK" | "FAIL" | "NOMATCH";
  readonly variant: string | null;
}

/** Parses the iptables project's extension test format (see the corpus README). */
export function parseTFile(path: string): TLine[] {
  const lines = readFileSync(path, "utf8").split("\n");
  const out: TLine[] = [];
  let table = "filter";
  let chains: string[] = [];
  lines.forEach((raw, i) => {
    const line = raw.trimEnd();
    if (line === "" || line.startsWith("#")) return;
    if (line.startsWith("*")) {
      table = line.slice(1);
      return;
    }
    if (line.startsWith(":")) {
      chains = line.slice(1).split(",");
      return;
    }
    const fields = line.split(";");
    const [rule, expectedField, result, variant] = fields;
    if (rule === undefined || result === undefined) return;
    out.push({
      file: path,
      lineNo: i + 1,
      table,
      chains,
      rule,
      expected: expectedField === "=" ? rule : (expectedField ?? ""),
      result: result as TLine["result"],
      variant: variant ?? null,
    });
  });
  return out;
}

/**
 * Splits a command written as a shell would (double and single quotes group words); enough for the
 * rules in the corpus, which quote comments and log prefixes.
 */
export function shellWords(text: string): string[] {
  const words: string[] = [];
  let current = "";
  let inWord = false;
  let quote: string | null = null;
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = null;
      else current += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(current);
      current = "";
      inWord = false;
    } else {
      current += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(current);
  return words;
}
