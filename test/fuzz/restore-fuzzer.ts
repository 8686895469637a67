// Fuzzes iptables-restore (runRestore) with mutated corpus files, checking:
//   - it never throws; exit codes are 0-4; a failure always says something on stderr;
//   - a refused file changes nothing (atomic), and the message names a line the way
//     iptables-restore does ("Error occurred at line: N", "line N failed", "line N: ...",
//     "COMMIT expected at line N"): a line iptables-restore reads (not empty, not a comment), or
//     the one after the last; the lines before it restore on their own (it works line by line);
//   - --test never changes anything, and never refuses what a real restore accepts;
//   - an accepted file's rule set lists without throwing; saving it then restoring the save gives
//     the same save text (iptables-save's form, and the rule-set file form the CLI stores, which
//     must also keep every rule's meaning); restoring the same file again changes nothing.
import type { RestoreOptions } from "../../src/core/iptables/restore.ts";
import { runIptables, runRestore, type Outcome } from "../../src/core/iptables/run.ts";
import { formatSave } from "../../src/core/iptables/save.ts";
import { splitRestoreLine } from "../../src/core/iptables/argv.ts";
import { RuleSet } from "../../src/core/rules/model.ts";
import { TABLE_NAMES } from "../../src/core/rules/tables.ts";
import { differentMeaning, diffLines, hasUnsafeName, snapshot } from "./command-fuzzer.ts";
import { loadFuzzCorpus, quoteForRestore } from "./fuzz-corpus.ts";
import { deriveSeed, describeError, FailureLog, replayCommand, Rng, type FuzzFailure } from "./rng.ts";
import { mutateTokens, randomString } from "./tokens.ts";

export interface RestoreViolation {
  readonly invariant: string;
  readonly message: string;
}

export interface RestoreFuzzStats {
  cases: number;
  accepted: number;
  refused: number;
  exitCodes: Record<number, number>;
  /** Refusals by the line format the message used. */
  lineStyles: Record<string, number>;
  roundTrips: number;
  ms: number;
}

export interface RestoreFuzzOptions {
  readonly seed: number;
  readonly cases?: number;
  readonly deadline?: number;
  readonly log?: FailureLog;
  readonly onProgress?: (stats: RestoreFuzzStats) => void;
  readonly firstCase?: number;
  /** Share of cases also run with --test to compare (default 0.25). */
  readonly testRate?: number;
}

const OK_EXIT = new Set([0, 1, 2, 3, 4]);

function describeOutcome(o: Outcome): string {
  return `exit ${o.exitCode}, stderr ${JSON.stringify(o.stderr.slice(0, 400))}`;
}

/** The lines as iptables-restore counts them (a final newline ends the last line, it starts none). */
function restoreLines(text: string): string[] {
  const lines = text.split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

const LINE_FORMATS: readonly (readonly [string, RegExp])[] = [
  ["parameter", /\nError occurred at line: (\d+)\n/],
  ["failed", /(?:^|\n)[^\n]*?: line (\d+) failed(?:: |\n)/],
  ["kernel", /: \nline (\d+): /],
  ["commit", /: COMMIT expected at line (\d+)\n/],
];

/** Refusals iptables-restore prints without a line number. */
const UNNUMBERED = /: chain `[^]*' in table `[^']*' is incompatible, use 'nft' tool\.\n$/;

/** Which line the refusal names, and in which of iptables-restore's formats; null when none. */
export function namedLine(stderr: string): { style: string; line: number } | null {
  for (const [style, re] of LINE_FORMATS) {
    const m = re.exec(stderr);
    if (m) return { style, line: Number(m[1]) };
  }
  return null;
}

/** Runs one restore on `rules` and checks every invariant. */
export function checkRestore(
  rules: RuleSet,
  text: string,
  opts: RestoreOptions,
  compareTest: boolean,
  stats?: RestoreFuzzStats,
): RestoreViolation | null {
  const before = snapshot(rules);
  const original = compareTest ? rules.clone() : null;
  const rulesBefore = (): RuleSet => original!.clone();
  let test: Outcome | null = null;
  if (compareTest && !opts.test) {
    const copy = rules.clone();
    try {
      test = runRestore(copy, text, { ...opts, test: true });
    } catch (error) {
      return { invariant: "throws", message: `runRestore --test threw: ${describeError(error)}` };
    }
    if (snapshot(copy) !== before) return { invariant: "test-changed", message: `--test changed the rule set (${describeOutcome(test)})` };
  }
  let out: Outcome;
  try {
    out = runRestore(rules, text, opts);
  } catch (error) {
    return { invariant: "throws", message: `runRestore threw: ${describeError(error)}` };
  }
  if (stats) stats.exitCodes[out.exitCode] = (stats.exitCodes[out.exitCode] ?? 0) + 1;
  if (!OK_EXIT.has(out.exitCode)) return { invariant: "exit-code", message: `exit code ${out.exitCode}: ${describeOutcome(out)}` };
  // --test parses every line but, as iptables-nft-restore aborts instead of committing, skips what
  // is only checked when the batch is prepared or committed: it may accept more, never less.
  if (test && test.exitCode !== 0 && out.exitCode === 0) {
    return { invariant: "test-differs", message: `--test refuses (${describeOutcome(test)}) what a real restore accepts` };
  }
  const after = snapshot(rules);
  if (out.exitCode !== 0) {
    if (stats) stats.refused++;
    if (out.stderr.trim() === "") return { invariant: "silent-failure", message: `refused without a message: ${describeOutcome(out)}` };
    if (after !== before) return { invariant: "not-atomic", message: `refused (${describeOutcome(out)}) yet the rule set changed:\n${diffLines(before, after)}` };
    const named = namedLine(out.stderr);
    // A listing (-L/-S) in the file fails as the listing would, without a line (as in iptables).
    if (!named && UNNUMBERED.test(out.stderr)) return null;
    if (!named) return { invariant: "no-line-number", message: `the refusal names no line: ${describeOutcome(out)}` };
    if (stats) stats.lineStyles[named.style] = (stats.lineStyles[named.style] ?? 0) + 1;
    const lines = restoreLines(text);
    if (named.style === "commit") {
      if (named.line !== lines.length + 1) return { invariant: "wrong-line", message: `COMMIT expected at line ${named.line}, the file has ${lines.length} lines` };
    } else {
      const line = lines[named.line - 1];
      if (line === undefined) return { invariant: "wrong-line", message: `names line ${named.line} of ${lines.length}: ${describeOutcome(out)}` };
      // The lines iptables-restore skips: empty ones and comments ("#" first). A line of blanks is
      // a command line to it (with no command in it).
      if (line === "" || line.startsWith("#")) {
        return { invariant: "wrong-line", message: `names line ${named.line}, which is ${JSON.stringify(line)}: ${describeOutcome(out)}` };
      }
    }
    if (compareTest && (named.style === "parameter" || named.style === "failed")) {
      const v = checkPrefix(rulesBefore(), lines, named.line, opts);
      if (v) return v;
    }
    return null;
  }
  if (stats) stats.accepted++;
  if (opts.test) {
    if (after !== before) return { invariant: "test-changed", message: "--test accepted and changed the rule set" };
    return null;
  }
  const v = checkAccepted(rules, after, opts.counters ?? false);
  if (!v && stats) stats.roundTrips++;
  if (v || !compareTest || opts.noflush) return v;
  // Restoring the same file again (it flushes what it restores) changes nothing.
  const again = runRestore(rules, text, opts);
  if (again.exitCode !== 0) return { invariant: "not-idempotent", message: `the file restores once, then not again: ${describeOutcome(again)}` };
  const twice = snapshot(rules);
  if (twice !== after) return { invariant: "not-idempotent", message: `restoring the file twice differs from once:\n${diffLines(after, twice)}` };
  return null;
}

/**
 * iptables-restore works line by line: when it names line N for a parse or rule-set error, every
 * line before N went through, so those lines alone (with a COMMIT for the table left open) fail at
 * most at that COMMIT (the checks made on the whole batch), never on a line of their own.
 */
function checkPrefix(base: RuleSet, lines: readonly string[], n: number, opts: RestoreOptions): RestoreViolation | null {
  const prefix = lines.slice(0, n - 1);
  let open = false;
  for (const l of prefix) {
    const t = l.replace(/\r$/, "").trim();
    if (t.startsWith("*") && !open) open = true;
    else if (t === "COMMIT") open = false;
  }
  const text = prefix.join("\n") + (open ? "\nCOMMIT\n" : "\n");
  const out = runRestore(base, text, opts);
  if (out.exitCode === 0) return null;
  const named = namedLine(out.stderr);
  // At the COMMIT added as line n, or (what iptables checks only when it prepares and commits the
  // batch: policies, rules the kernel refuses) a rule-set error naming an earlier line; but not a
  // parse error of its own on a line before n.
  if (named && (named.line >= n || named.style !== "parameter")) return null;
  if (!named && UNNUMBERED.test(out.stderr)) return null;
  return { invariant: "prefix-fails", message: `the file fails at line ${n}, yet its first ${n - 1} lines fail on their own: ${describeOutcome(out)}` };
}

/** A line of a save whose double quotes do not pair up (a quoted word held a newline). */
function hasBrokenLine(text: string): boolean {
  for (const line of text.split("\n")) {
    let open = false;
    for (let i = 0; i < line.length; i++) {
      if (open && line[i] === "\\") i++;
      else if (line[i] === '"') open = !open;
    }
    if (open) return true;
  }
  return false;
}

/** An accepted rule set lists, and both save forms restore to the same text. */
function checkAccepted(rules: RuleSet, stored: string, withCounters: boolean): RestoreViolation | null {
  for (const table of rules.tables.keys()) {
    for (const args of [["-L", "-n", "-v", "-x"], ["-S"]]) {
      try {
        const out = runIptables(rules, ["-t", table, ...args]);
        if (out.exitCode !== 0) return { invariant: "list-fails", message: `-t ${table} ${args.join(" ")}: ${describeOutcome(out)}` };
      } catch (error) {
        return { invariant: "list-throws", message: `-t ${table} ${args.join(" ")} threw: ${describeError(error)}` };
      }
    }
  }
  for (const counters of [withCounters]) {
    let saved: string;
    try {
      saved = formatSave(rules, { counters });
    } catch (error) {
      return { invariant: "save-throws", message: `save threw: ${describeError(error)}` };
    }
    // iptables-save prints names bare (one with a blank or quote does not read back) and quoted
    // words as they are (one with a newline breaks its line): as in iptables.
    if (hasUnsafeName(rules) || hasBrokenLine(saved)) continue;
    const fresh = new RuleSet();
    const out = runRestore(fresh, saved, { counters });
    if (out.exitCode !== 0) {
      return { invariant: "save-roundtrip", message: `the save (counters ${counters}) does not restore: ${describeOutcome(out)}\n${saved}` };
    }
    // iptables-save prints policy counters even without -c; restoring without -c drops them.
    const policies = (text: string): string => (counters ? text : text.replace(/^(:\S+ \S+) \[\d+:\d+\]$/gm, "$1 [0:0]"));
    const again = policies(formatSave(fresh, { counters }));
    saved = policies(saved);
    if (again !== saved) return { invariant: "save-roundtrip", message: `save -> restore -> save differs (counters ${counters}):\n${diffLines(saved, again)}` };
  }
  const fresh = new RuleSet();
  const out = runRestore(fresh, stored, { counters: true, ruleSetFile: true });
  if (out.exitCode !== 0) return { invariant: "file-roundtrip", message: `the stored form does not restore: ${describeOutcome(out)}\n${stored}` };
  const again = snapshot(fresh);
  if (again !== stored) return { invariant: "file-roundtrip", message: `stored form restores differently:\n${diffLines(stored, again)}` };
  const meaning = differentMeaning(rules, fresh);
  if (meaning) return { invariant: "file-roundtrip-meaning", message: `the stored form restores to the same text with another meaning: ${meaning}` };
  return null;
}

// ---- mutation ---------------------------------------------------------------------------------------

const WEIRD_LINES = [
  "*nat", "*filter", "*raw", "*mangle", "*security", "*bogus", "*", "* nat", "COMMIT", "COMMIT extra", ":FOO - [0:0]",
  ":INPUT BOGUS [0:0]", ":INPUT DROP [1:2]", ":INPUT ACCEPT", ":INPUT", ":", ": - [0:0]", ":DOCKER - [0:0]",
  ":X2345678901234567890123456789 - [0:0]", "-t nat -A INPUT -j ACCEPT", "# comment", "", "   ", "\t", "-A",
  "[1:2]", "[1:2] -A INPUT -j ACCEPT", "[x:y] -A INPUT -j ACCEPT", ":INPUT ACCEPT [1:2] extra", "-A INPUT",
  "-A INPUT -j", "-N NEWCHAIN", "-X", "-F", "-Z", "-P INPUT DROP", "-L", "-S", "-V", "-h", "-A INPUT -w",
  "-A INPUT -m comment --comment \"unterminated", "-A INPUT -m comment --comment \"a\\\"b\" -j ACCEPT",
  "-A INPUT -m comment --comment \"\" -j ACCEPT", "-I INPUT 99 -j ACCEPT", "-D INPUT 1", "-R INPUT 1 -j DROP",
  "-E DOCKER NEWNAME", "-A DOCKER -j DOCKER", "-A INPUT -j NOSUCHCHAIN", "-A INPUT -g INPUT",
];

const BAD_COUNTERS = [
  "[x:y]", "[-1:0]", "[1:2", "1:2]", "[1:]", "[:1]", "[]", "[1:2:3]", "[99999999999999999999:0]",
  "[18446744073709551616:1]", "[0x10:0]", "[ 1:2]", "[1 :2]", "[1:2]x", "[9007199254740993:0]", "[١:٢]",
];

function pickLine(rng: Rng, lines: readonly string[], test?: (l: string) => boolean): number {
  const candidates: number[] = [];
  lines.forEach((l, i) => {
    if (!test || test(l)) candidates.push(i);
  });
  return candidates.length > 0 ? rng.pick(candidates) : -1;
}

const isRule = (l: string): boolean => /^\s*(\[[^\]]*\]\s*)?-/.test(l);

/** One mutation of a whole file. */
export function mutateText(rng: Rng, text: string): string {
  const lines = text.split("\n");
  const at = rng.int(lines.length);
  switch (rng.int(17)) {
    case 0: // drop a line
      lines.splice(at, 1);
      break;
    case 1: // duplicate a line
      lines.splice(at, 0, lines[at]!);
      break;
    case 2: {
      // swap two lines
      const b = rng.int(lines.length);
      [lines[at], lines[b]] = [lines[b]!, lines[at]!];
      break;
    }
    case 3: {
      // shuffle a range
      const end = Math.min(lines.length, at + rng.range(2, 8));
      for (let i = end - 1; i > at; i--) {
        const j = at + rng.int(i - at + 1);
        [lines[i], lines[j]] = [lines[j]!, lines[i]!];
      }
      break;
    }
    case 4: // truncate at a random character
      return text.slice(0, rng.int(text.length + 1));
    case 5: {
      // corrupt characters
      let out = text;
      for (let n = rng.range(1, 4); n > 0; n--) {
        const i = rng.int(out.length);
        const ch = rng.pick(["\0", "\r", "\n", "\t", " ", '"', "\\", "#", "*", ":", "[", "]", "!", "-", "é", "\ufffd", String.fromCharCode(rng.int(128))]);
        out = out.slice(0, i) + ch + out.slice(i + 1);
      }
      return out;
    }
    case 6: {
      // remove a COMMIT (sometimes every one)
      if (rng.chance(0.3)) return lines.filter((l) => l.trim() !== "COMMIT").join("\n");
      const i = pickLine(rng, lines, (l) => l.trim() === "COMMIT");
      if (i >= 0) lines.splice(i, 1);
      break;
    }
    case 7: {
      // bad counters on a chain line or before a rule
      const i = pickLine(rng, lines, (l) => l.startsWith(":") || isRule(l));
      if (i >= 0) {
        const bad = rng.pick(BAD_COUNTERS);
        lines[i] = lines[i]!.startsWith(":") ? lines[i]!.replace(/\[[^\]]*\]|$/, bad) : `${bad} ${lines[i]!.replace(/^\[[^\]]*\]\s*/, "")}`;
      }
      break;
    }
    case 8: {
      // unbalanced quote in a rule line
      const i = pickLine(rng, lines, isRule);
      if (i >= 0) {
        const l = lines[i]!;
        const p = rng.int(l.length + 1);
        lines[i] = l.slice(0, p) + rng.pick(['"', '"\\', "\\\"", "'"]) + l.slice(p);
      }
      break;
    }
    case 9:
    case 10:
    case 11: {
      // mutate a rule line's words
      const i = pickLine(rng, lines, isRule);
      if (i >= 0) {
        const m = /^(\s*\[[^\]]*\]\s*)?(.*)$/.exec(lines[i]!)!;
        let words: string[];
        try {
          words = splitRestoreLine(m[2]!);
        } catch {
          break;
        }
        for (let n = rng.range(1, 3); n > 0; n--) words = mutateTokens(rng, words);
        lines[i] = (m[1] ?? "") + words.map(quoteForRestore).join(" ");
      }
      break;
    }
    case 12: {
      // a line of another file
      const corpus = loadFuzzCorpus();
      const other = rng.pick(corpus.restoreTexts).text.split("\n");
      lines.splice(rng.int(lines.length + 1), 0, rng.pick(other));
      break;
    }
    case 13: // a weird line
      lines.splice(rng.int(lines.length + 1), 0, rng.chance(0.9) ? rng.pick(WEIRD_LINES) : randomString(rng));
      break;
    case 14: // CRLF, trailing blanks, leading blanks
      return rng.weighted<() => string>([
        [3, () => lines.join("\r\n")],
        [1, () => lines.map((l) => `${l} `).join("\n")],
        [1, () => lines.map((l) => `\t${l}`).join("\n")],
        [1, () => lines.join("\n\n")],
      ])();
    case 15: {
      // another table name
      const i = pickLine(rng, lines, (l) => l.startsWith("*"));
      if (i >= 0) lines[i] = `*${rng.pick([...TABLE_NAMES, "security", "bogus", ""])}`;
      break;
    }
    default: {
      // cut a line short
      const l = lines[at]!;
      lines[at] = l.slice(0, rng.int(l.length + 1));
      break;
    }
  }
  return lines.join("\n");
}

function randomOptions(rng: Rng): RestoreOptions {
  return {
    counters: rng.chance(0.5),
    noflush: rng.chance(0.2),
    test: rng.chance(0.08),
    table: rng.chance(0.1) ? rng.pick(TABLE_NAMES) : undefined,
  };
}

// ---- running and shrinking ------------------------------------------------------------------------

export function newRestoreStats(): RestoreFuzzStats {
  return { cases: 0, accepted: 0, refused: 0, exitCodes: {}, lineStyles: {}, roundTrips: 0, ms: 0 };
}

interface RestoreCase {
  readonly baseIndex: number;
  readonly text: string;
  readonly opts: RestoreOptions;
  readonly compareTest: boolean;
}

/** Case `index` of the run with `seed` (each case has its own generator: any case replays alone). */
export function generateRestoreCase(seed: number, index: number, testRate = 0.25): RestoreCase {
  const corpus = loadFuzzCorpus();
  const rng = new Rng(deriveSeed(seed, index));
  const source = rng.pick(corpus.restoreTexts).text;
  let text = source;
  const mutations = rng.weighted([[1, 0], [6, 1], [4, 2], [2, 3], [1, rng.range(4, 10)]] as const);
  for (let i = 0; i < mutations; i++) text = mutateText(rng, text);
  const baseIndex = rng.chance(0.3) ? rng.int(corpus.ruleSets.length) : -1;
  return { baseIndex, text, opts: randomOptions(rng), compareTest: rng.chance(testRate) };
}

function baseRules(baseIndex: number): RuleSet {
  return baseIndex < 0 ? new RuleSet() : loadFuzzCorpus().ruleSets[baseIndex]!.clone();
}

export function runRestoreFuzz(opts: RestoreFuzzOptions): { stats: RestoreFuzzStats; log: FailureLog } {
  const log = opts.log ?? new FailureLog();
  const stats = newRestoreStats();
  const started = Date.now();
  for (let index = opts.firstCase ?? 0; ; index++) {
    if (opts.cases !== undefined && stats.cases >= opts.cases) break;
    if (opts.deadline !== undefined && (index & 63) === 0 && Date.now() >= opts.deadline) break;
    const c = generateRestoreCase(opts.seed, index, opts.testRate);
    stats.cases++;
    const v = checkRestore(baseRules(c.baseIndex), c.text, c.opts, c.compareTest, stats);
    if (v) {
      if (log.wants(v.invariant)) log.add(restoreFailure(opts.seed, index, c, v));
      else log.count(v.invariant);
    }
    if (opts.onProgress && (index & 255) === 255) {
      stats.ms = Date.now() - started;
      opts.onProgress(stats);
    }
  }
  stats.ms = Date.now() - started;
  return { stats, log };
}

function restoreFailure(seed: number, index: number, c: RestoreCase, v: RestoreViolation): FuzzFailure {
  const shrunk = shrinkRestore(c, v.invariant);
  const base = shrunk.baseIndex < 0 ? "(empty rule set)" : `corpus rule set ${loadFuzzCorpus().restoreTexts[shrunk.baseIndex]!.name}`;
  return {
    fuzzer: "restore",
    invariant: v.invariant,
    message: v.message.split("\n")[0]!,
    seed,
    where: `case ${index}`,
    reproduction: [
      `minimal reproduction: restore into ${base} with options ${JSON.stringify(Object.fromEntries(Object.entries(shrunk.opts).filter(([, v]) => v)))}${shrunk.compareTest ? " (and compare with --test)" : ""}:`,
      `text: ${JSON.stringify(shrunk.text)}`,
      `violation: ${shrunk.message}`,
      `replay: ${replayCommand("restore", seed)} (case ${index})`,
    ].join("\n"),
  };
}

/** Drops lines, then characters, then options while the same invariant still breaks. */
export function shrinkRestore(c: RestoreCase, invariant: string, budget = 1000): RestoreCase & { message: string } {
  let tries = 0;
  const test = (x: RestoreCase): RestoreViolation | null => {
    if (tries++ >= budget) return null;
    const v = checkRestore(baseRules(x.baseIndex), x.text, x.opts, x.compareTest);
    return v && v.invariant === invariant ? v : null;
  };
  let cur = c;
  let message = test(cur)?.message ?? "(did not reproduce)";
  const attempt = (x: RestoreCase): boolean => {
    const v = test(x);
    if (!v) return false;
    cur = x;
    message = v.message;
    return true;
  };
  if (cur.baseIndex >= 0) attempt({ ...cur, baseIndex: -1 });
  for (let progress = true; progress; ) {
    progress = false;
    for (let chunk = Math.max(1, (cur.text.split("\n").length + 1) >> 1); chunk >= 1; chunk >>= 1) {
      let lines = cur.text.split("\n");
      for (let i = 0; i + chunk <= lines.length; ) {
        const candidate = [...lines.slice(0, i), ...lines.slice(i + chunk)];
        if (attempt({ ...cur, text: candidate.join("\n") })) {
          lines = candidate;
          progress = true;
        } else i++;
      }
    }
  }
  // Within each line: drop words, then characters from either end.
  let lines = cur.text.split("\n");
  const tryLine = (i: number, l: string): boolean => {
    const candidate = [...lines];
    candidate[i] = l;
    if (!attempt({ ...cur, text: candidate.join("\n") })) return false;
    lines = candidate;
    return true;
  };
  for (let i = 0; i < lines.length; i++) {
    for (let w = 0; ; ) {
      const words = lines[i]!.split(" ");
      if (w >= words.length || words.length < 2) break;
      if (!tryLine(i, [...words.slice(0, w), ...words.slice(w + 1)].join(" "))) w++;
    }
    while (lines[i]!.length > 0 && tryLine(i, lines[i]!.slice(0, -1))) {
      // shortened from the end
    }
    while (lines[i]!.length > 0 && tryLine(i, lines[i]!.slice(1))) {
      // shortened from the start
    }
  }
  for (const key of ["counters", "noflush", "test", "table"] as const) {
    if (cur.opts[key] !== undefined && cur.opts[key] !== false) attempt({ ...cur, opts: { ...cur.opts, [key]: undefined } });
  }
  if (cur.compareTest) attempt({ ...cur, compareTest: false });
  return { ...cur, message };
}
