// Fuzzes iptables' command line (runIptables) with random and mutated argv against a rule set that
// evolves over an episode (100 commands from a corpus rule set, or none), checking after each:
//   - runIptables never throws; exit codes are 0-4; a failure always says something on stderr;
//   - a refused command (or one that says it changed nothing) leaves the rule set as it was;
//   - the rules an accepted -A/-I/-R put in, as saved, parse again to the same text, -C finds them,
//     and (-A/-I) -D by that text takes the table back to where it was;
//   - after every change, -L (several ways), -S and save of the changed table never throw (and
//     exit 0); at the end of every episode (and after 2% of the changes): the rule-set file form (what the CLI stores after each
//     command) restores to the same text and the same meaning, iptables-save's text restores to
//     the same text, and `-S -v` replayed as commands lists the same.
import { parseCommand, type Command } from "../../src/core/iptables/command.ts";
import { splitRestoreLine } from "../../src/core/iptables/argv.ts";
import { restore } from "../../src/core/iptables/restore.ts";
import { formatRuleSpec } from "../../src/core/iptables/rule-format.ts";
import { runIptables, runRestore, type Outcome } from "../../src/core/iptables/run.ts";
import { formatSave } from "../../src/core/iptables/save.ts";
import { RuleSet, type Rule } from "../../src/core/rules/model.ts";
import { BUILTIN_CHAINS, TABLE_NAMES, type TableName } from "../../src/core/rules/tables.ts";
import { loadFuzzCorpus, vocabulary, type CorpusCommand } from "./fuzz-corpus.ts";
import { deriveSeed, describeError, FailureLog, replayCommand, Rng, type FuzzFailure } from "./rng.ts";
import { INTERFACES, mutateTokens, randomString, randomToken, randomValue } from "./tokens.ts";

export interface Violation {
  readonly invariant: string;
  readonly message: string;
}

export interface CommandFuzzStats {
  cases: number;
  episodes: number;
  exitCodes: Record<number, number>;
  /** Accepted commands that changed the rule set. */
  changes: number;
  /** Accepted -A/-I/-R whose saved rules were parsed again and found by -C. */
  rulesRechecked: number;
  /** Round trips of the rule-set file form. */
  roundTrips: number;
  ms: number;
}

export interface CommandFuzzOptions {
  readonly seed: number;
  /** Stop after this many cases (default: unlimited, then a deadline is needed). */
  readonly cases?: number;
  /** Stop at this Date.now() (checked between episodes). */
  readonly deadline?: number;
  readonly episodeLength?: number;
  readonly log?: FailureLog;
  /** Called after every episode. */
  readonly onProgress?: (stats: CommandFuzzStats) => void;
  /** Share of changes followed at once by the listing and round-trip checks (default 2%). */
  readonly deepRate?: number;
  /** First episode index (the long run continues where it was). */
  readonly firstEpisode?: number;
}

/** The rule set exactly as the CLI stores it: every table and chain that exists, with counters. */
export function snapshot(rules: RuleSet): string {
  return formatSave(rules, { counters: true, kernelView: true });
}

function restoreSnapshot(text: string): RuleSet {
  const rules = new RuleSet();
  if (text !== "") restore(rules, text, { counters: true, ruleSetFile: true });
  return rules;
}

const OK_EXIT = new Set([0, 1, 2, 3, 4]);

function describeOutcome(o: Outcome): string {
  return `exit ${o.exitCode}, stdout ${JSON.stringify(o.stdout.slice(0, 200))}, stderr ${JSON.stringify(o.stderr.slice(0, 300))}`;
}

function safeParse(argv: readonly string[]): Command | null {
  try {
    return parseCommand(argv, { onWarning: () => {} });
  } catch {
    return null;
  }
}

/** Names iptables-save prints bare that iptables-restore would split or misread. */
export function hasUnsafeName(rules: RuleSet): boolean {
  const unsafe = /["\\\s]/;
  for (const table of rules.tables.values()) {
    for (const chain of table.chains.values()) {
      if (unsafe.test(chain.name)) return true;
      for (const rule of chain.rules) {
        if (rule.inInterface && unsafe.test(rule.inInterface.name)) return true;
        if (rule.outInterface && unsafe.test(rule.outInterface.name)) return true;
        if ((rule.target.kind === "jump" || rule.target.kind === "goto") && unsafe.test(rule.target.chain)) return true;
      }
    }
  }
  return false;
}

/** What one checked command left behind. */
export interface CommandCheck {
  readonly violation: Violation | null;
  /** The rule set's snapshot after the command (the next command's "before"). */
  readonly after: string;
}

/**
 * Runs one command on `rules` (which it changes as iptables would) and checks every invariant.
 * `before` is snapshot(rules), passed in so a run computes one snapshot per command. `deep` adds
 * the rule-set-file round-trip checks after a change (an episode does them once at its end).
 */
export function checkCommand(
  rules: RuleSet,
  argv: readonly string[],
  before: string = snapshot(rules),
  stats?: CommandFuzzStats,
  deep = true,
): CommandCheck {
  const fail = (invariant: string, message: string, after = before): CommandCheck => ({ violation: { invariant, message }, after });
  // A copy for the -D undo check, when the command may add rules (-A/-I, also inside clusters).
  const beforeRules = argv.some((w) => /^-[^-]*[AI]/.test(w) || /^--(a|in)/.test(w)) ? rules.clone() : null;
  let out: Outcome;
  try {
    out = runIptables(rules, argv);
  } catch (error) {
    return fail("throws", `runIptables threw: ${describeError(error)}`, safeSnapshot(rules));
  }
  if (stats) stats.exitCodes[out.exitCode] = (stats.exitCodes[out.exitCode] ?? 0) + 1;
  let after: string;
  try {
    after = snapshot(rules);
  } catch (error) {
    return fail("save-throws", `save threw after the command: ${describeError(error)}`);
  }
  if (!OK_EXIT.has(out.exitCode)) return fail("exit-code", `exit code ${out.exitCode}: ${describeOutcome(out)}`, after);
  if (out.exitCode !== 0 && out.stderr.trim() === "") return fail("silent-failure", `non-zero exit without a message: ${describeOutcome(out)}`, after);
  if (out.exitCode !== 0 && after !== before) {
    return fail("refused-but-changed", `refused (${describeOutcome(out)}) yet the rule set changed:\n${diffLines(before, after)}`, after);
  }
  if (out.exitCode === 0 && !out.changed && after !== before) {
    return fail("changed-flag", `changed=false yet the rule set changed:\n${diffLines(before, after)}`, after);
  }
  if (out.exitCode !== 0) return { violation: null, after };
  const parsed = safeParse(argv);
  if (parsed === null) return fail("parse-disagrees", `parseCommand refuses what runIptables accepts: ${describeOutcome(out)}`, after);

  if (parsed.rules.length > 0 && (parsed.command === "append" || parsed.command === "insert" || parsed.command === "replace")) {

    const v = recheckNewRules(rules, parsed) ?? (parsed.command !== "replace" && beforeRules ? checkUndo(rules, parsed, beforeRules) : null);
    if (v) return { violation: v, after };
    if (stats) stats.rulesRechecked++;
  }
  if (after !== before) {
    if (stats) stats.changes++;
    const listed = checkListings(rules, parsed.table);
    if (listed) return { violation: listed, after };
    if (deep) {
      const v = checkRoundTrip(rules, after);
      if (v) return { violation: v, after };
      if (stats) stats.roundTrips++;
    }
  }
  return { violation: null, after };
}

function safeSnapshot(rules: RuleSet): string {
  try {
    return snapshot(rules);
  } catch {
    return "";
  }
}

/** The rules an -A/-I/-R put in, saved (quoted for restore), parse again and -C finds each. */
function recheckNewRules(rules: RuleSet, cmd: Command): Violation | null {
  const chain = rules.tables.get(cmd.table)?.chains.get(cmd.chain!);
  if (!chain) return { invariant: "rule-lost", message: `${cmd.command} accepted but chain ${cmd.chain} is missing from table ${cmd.table}` };
  const n = cmd.rules.length;
  const start = cmd.command === "append" ? chain.rules.length - n : (cmd.ruleNumber ?? 1) - 1;
  const added = chain.rules.slice(start, start + n);
  if (added.length !== n) return { invariant: "rule-lost", message: `${cmd.command} accepted but the chain has no rules at ${start + 1}..${start + n}` };
  for (const rule of added) {
    let spec: string;
    let words: string[];
    try {
      spec = formatRuleSpec(rule, { forRestore: true });
      words = splitRestoreLine(spec);
    } catch (error) {
      return { invariant: "rule-respec", message: `the saved rule cannot be formatted or split: ${describeError(error)}` };
    }
    const argv = ["-t", cmd.table, "-C", cmd.chain!, ...words];
    let check: Outcome;
    try {
      check = runIptables(rules, argv);
    } catch (error) {
      return { invariant: "throws", message: `-C of the saved rule threw: ${describeError(error)}\nargv ${JSON.stringify(argv)}` };
    }
    if (check.exitCode !== 0) {
      return { invariant: "rule-recheck", message: `saved rule "-A ${cmd.chain}${spec}" is not found again by -C: ${describeOutcome(check)}` };
    }
    // The re-parsed rule saves to the same text (the save form is a fixed point).
    const again = safeParse(["-t", cmd.table, "-A", cmd.chain!, ...words]);
    const respec = again?.rules.length === 1 ? formatRuleSpec(again.rules[0]!, { forRestore: true }) : null;
    if (respec !== spec) {
      return { invariant: "rule-fixpoint", message: `"-A ${cmd.chain}${spec}" parses again as ${JSON.stringify(respec)}` };
    }
  }
  return null;
}

/**
 * -D by the saved spec of each rule an -A/-I put in takes the rule set back to where it was (when no
 * identical rule was there before: -D deletes the first match).
 */
function checkUndo(rules: RuleSet, cmd: Command, beforeRules: RuleSet): Violation | null {
  const chain = rules.tables.get(cmd.table)?.chains.get(cmd.chain!);
  if (!chain) return null;
  const n = cmd.rules.length;
  const start = cmd.command === "append" ? chain.rules.length - n : (cmd.ruleNumber ?? 1) - 1;
  const specs = chain.rules.map((r) => formatRuleSpec(r, { forRestore: true }));
  const added = specs.slice(start, start + n);
  const others = new Set([...specs.slice(0, start), ...specs.slice(start + n)]);
  if (added.some((spec) => others.has(spec)) || new Set(added).size !== added.length) return null;
  const copy = rules.clone();
  for (const spec of added) {
    const argv = ["-t", cmd.table, "-D", cmd.chain!, ...splitRestoreLine(spec)];
    let out: Outcome;
    try {
      out = runIptables(copy, argv);
    } catch (error) {
      return { invariant: "throws", message: `-D of the saved rule threw: ${describeError(error)}\nargv ${JSON.stringify(argv)}` };
    }
    if (out.exitCode !== 0) return { invariant: "undo", message: `-D${spec} fails after the rule was added: ${describeOutcome(out)}` };
  }
  // The table as iptables-save shows it: built-in chains the -A created stay, as in iptables-nft.
  const view = (r: RuleSet): string => formatSave(r, { table: cmd.table });
  const now = view(copy);
  const was = view(beforeRules);
  if (now !== was) return { invariant: "undo", message: `-D of the added rules does not give the rule set back:\n${diffLines(was, now)}` };
  return null;
}

const LISTINGS: readonly (readonly string[])[] = [
  ["-L", "-n", "-v", "-x", "--line-numbers"],
  ["-L"],
  ["-L", "-v"],
  ["-S"],
  ["-S", "-v"],
];

/** Lists `table` (null: every table) every way; nothing may throw or fail. */
function checkListings(rules: RuleSet, table: TableName | null): Violation | null {
  const tables = table !== null && rules.tables.has(table) ? [table] : [...rules.tables.keys()];
  for (const t of tables) {
    for (const args of LISTINGS) {
      const argv = ["-t", t, ...args];
      try {
        const out = runIptables(rules, argv);
        if (out.exitCode !== 0) return { invariant: "list-fails", message: `${argv.join(" ")}: ${describeOutcome(out)}` };
        if (out.changed) return { invariant: "list-changes", message: `${argv.join(" ")} says it changed the rule set` };
      } catch (error) {
        return { invariant: "list-throws", message: `${argv.join(" ")} threw: ${describeError(error)}` };
      }
    }
  }
  try {
    formatSave(rules, { counters: true });
    formatSave(rules, {});
  } catch (error) {
    return { invariant: "save-throws", message: `iptables-save form threw: ${describeError(error)}` };
  }
  return null;
}

/**
 * The rule-set file form (what the CLI stores) restores to the same rule set, and so does
 * iptables-save's form when no name needs quoting.
 */
function checkRoundTrip(rules: RuleSet, stored: string): Violation | null {
  let reloaded: RuleSet;
  try {
    reloaded = restoreSnapshot(stored);
  } catch (error) {
    return { invariant: "file-roundtrip", message: `the stored rule set does not restore: ${describeError(error)}\n${stored}` };
  }
  const again = snapshot(reloaded);
  if (again !== stored) return { invariant: "file-roundtrip", message: `stored rule set restores differently:\n${diffLines(stored, again)}` };
  const meaning = differentMeaning(rules, reloaded);
  if (meaning) return { invariant: "file-roundtrip-meaning", message: `the stored rule set restores to the same text with another meaning: ${meaning}` };
  if (!hasUnsafeName(rules)) {
    const replay = checkListRulesReplay(rules);
    if (replay) return replay;
    const saved = formatSave(rules, { counters: true });
    const fresh = new RuleSet();
    const out = runRestore(fresh, saved, { counters: true });
    if (out.exitCode !== 0) {
      return { invariant: "save-roundtrip", message: `iptables-save's text does not restore: ${describeOutcome(out)}\n${saved}` };
    }
    const resaved = formatSave(fresh, { counters: true });
    if (resaved !== saved) return { invariant: "save-roundtrip", message: `iptables-save's text restores differently:\n${diffLines(saved, resaved)}` };
  }
  return null;
}

/** `iptables -S -v` prints commands: run on an empty rule set, they make the same listing. */
export function checkListRulesReplay(rules: RuleSet): Violation | null {
  for (const table of rules.tables.keys()) {
    const listing = runIptables(rules, ["-t", table, "-S", "-v"]).stdout;
    const fresh = new RuleSet();
    for (const line of listing.split("\n")) {
      if (line === "") continue;
      let out: Outcome;
      try {
        out = runIptables(fresh, ["-t", table, ...splitRestoreLine(line)]);
      } catch (error) {
        return { invariant: "list-rules-replay", message: `replaying "${line}" threw: ${describeError(error)}` };
      }
      if (out.exitCode !== 0) return { invariant: "list-rules-replay", message: `-S line "${line}" does not run again: ${describeOutcome(out)}` };
    }
    // iptables-nft's -P ignores -c (nft_cmd_chain_set gets no counters), so policy counters do not replay.
    const policyCounters = (text: string): string => text.replace(/^(-P \S+ \S+) -c \d+ \d+$/gm, "$1");
    const again = policyCounters(runIptables(fresh, ["-t", table, "-S", "-v"]).stdout);
    if (again !== policyCounters(listing)) return { invariant: "list-rules-replay", message: `-t ${table} -S -v, replayed, lists differently:\n${diffLines(listing, again)}` };
  }
  return null;
}

/** What a rule does beyond its text: a jump to a chain named ACCEPT prints like the verdict. */
function ruleMeaning(rule: Rule): string {
  const t = rule.target;
  const target = t.kind === "verdict" ? t.verdict : t.kind === "jump" || t.kind === "goto" ? t.chain : t.kind === "extension" ? t.ext.name : "";
  return `${t.kind}:${target} ${rule.matches.map((m) => m.ext.name).join(",")}`;
}

/** The first rule whose meaning differs between two rule sets of the same text, or null. */
export function differentMeaning(a: RuleSet, b: RuleSet): string | null {
  for (const [name, table] of a.tables) {
    for (const [chainName, chain] of table.chains) {
      const other = b.tables.get(name)?.chains.get(chainName);
      if (!other) return `chain ${chainName} of table ${name} is gone`;
      for (let i = 0; i < chain.rules.length; i++) {
        const x = ruleMeaning(chain.rules[i]!);
        const y = other.rules[i] ? ruleMeaning(other.rules[i]!) : "(none)";
        if (x !== y) return `table ${name} chain ${chainName} rule ${i + 1}: ${x} became ${y}`;
      }
    }
  }
  return null;
}

/** The lines only in `a` (-) and only in `b` (+), at most a dozen. */
export function diffLines(a: string, b: string): string {
  const as = a.split("\n");
  const bs = b.split("\n");
  const inB = new Set(bs);
  const inA = new Set(as);
  const out = [...as.filter((l) => !inB.has(l)).map((l) => `- ${l}`), ...bs.filter((l) => !inA.has(l)).map((l) => `+ ${l}`)];
  if (out.length === 0) return "(same lines, different order)";
  return out.slice(0, 12).join("\n") + (out.length > 12 ? `\n... ${out.length - 12} more` : "");
}

// ---- generation ------------------------------------------------------------------------------

const COMMANDS = ["-A", "-I", "-D", "-C", "-R", "-N", "-X", "-E", "-P", "-L", "-S", "-F", "-Z"];

function chainsOf(rules: RuleSet): string[] {
  const out: string[] = [];
  for (const table of rules.tables.values()) for (const name of table.chains.keys()) out.push(name);
  return out;
}

function pickChain(rng: Rng, rules: RuleSet, table: string): string {
  return rng.weighted<() => string>([
    [4, () => rng.pick(BUILTIN_CHAINS[(TABLE_NAMES as readonly string[]).includes(table) ? (table as TableName) : "filter"])],
    [4, () => {
      const existing = chainsOf(rules);
      return existing.length > 0 ? rng.pick(existing) : "INPUT";
    }],
    [2, () => rng.pick(vocabulary().chains)],
    [1, () => randomString(rng)],
  ])();
}

/** A command shaped like iptables' own: table, command, chain, options with plausible values. */
function shapedArgv(rng: Rng, rules: RuleSet): string[] {
  const v = vocabulary();
  const argv: string[] = [];
  const table = rng.chance(0.6) ? rng.pick(TABLE_NAMES) : rng.chance(0.8) ? "filter" : rng.pick(v.tables);
  if (table !== "filter" || rng.chance(0.3)) argv.push(rng.pick(["-t", "--table"]), table);
  const command = rng.weighted([[8, "-A"], [3, "-I"], [3, "-D"], [3, "-C"], [2, "-R"], [2, "-N"], [1, "-X"], [1, "-E"], [2, "-P"], [2, "-L"], [2, "-S"], [1, "-F"], [1, "-Z"]] as const);
  argv.push(command, pickChain(rng, rules, table));
  if ((command === "-I" || command === "-L" || command === "-S" || command === "-Z") && rng.chance(0.4)) argv.push(rng.pick(["1", "2", "3", rng.pick(v.numbers)]));
  if (command === "-R" || (command === "-D" && rng.chance(0.3))) argv.push(rng.pick(["1", "2", rng.pick(v.numbers)]));
  if (command === "-E") argv.push(rng.chance(0.7) ? `C${rng.int(20)}` : rng.pick(v.chains));
  if (command === "-P") argv.push(rng.weighted([[5, "ACCEPT"], [3, "DROP"], [1, "RETURN"], [1, rng.pick(v.targetNames)]] as const));
  if (command === "-N" && rng.chance(0.6)) argv[argv.length - 1] = `C${rng.int(20)}`;
  const groups = rng.small(7) + (command === "-A" || command === "-I" ? 1 : 0);
  for (let g = 0; g < groups; g++) {
    const bang = rng.chance(0.15) ? ["!"] : [];
    switch (rng.int(12)) {
      case 0:
        argv.push(...bang, rng.pick(["-p", "--protocol", "-p", "--proto"]), rng.pick(["tcp", "udp", "icmp", "all", "6", "17", "1", "0", rng.pick(v.values)]));
        break;
      case 1:
        argv.push(...bang, rng.pick(["-s", "-d", "--source", "--dst"]), rng.pick(v.addresses));
        break;
      case 2:
        argv.push(...bang, rng.pick(["-i", "-o", "--in-interface", "--out-interface"]), rng.pick(INTERFACES));
        break;
      case 3:
        argv.push(...bang, "-f");
        break;
      case 4:
      case 5: {
        const target = rng.pick([...v.targetNames, ...chainsOf(rules)]);
        argv.push(rng.chance(0.85) ? "-j" : "-g", target);
        const options = v.optionsOf.get(target) ?? [];
        for (let i = rng.small(3); i > 0 && options.length > 0; i--) argv.push(...(rng.chance(0.1) ? ["!"] : []), ...optionWithValue(rng, rng.pick(options)));
        break;
      }
      case 6:
      case 7:
      case 8: {
        const match = rng.pick(v.matchNames);
        argv.push(rng.chance(0.9) ? "-m" : "--match", match);
        const options = v.optionsOf.get(match) ?? [];
        for (let i = rng.small(3) + 1; i > 0 && options.length > 0; i--) {
          argv.push(...(rng.chance(0.15) ? ["!"] : []), ...optionWithValue(rng, rng.pick(options)));
        }
        break;
      }
      case 9:
        argv.push(rng.pick(["-c", "--set-counters"]), rng.pick(v.numbers), rng.pick(v.numbers));
        break;
      case 10:
        argv.push(rng.pick(["-n", "-v", "-x", "--line-numbers", "-w", "-vv", "--wait", "-W", "-4", "-M", "/sbin/modprobe"]));
        break;
      default:
        argv.push(...bang, rng.pick(v.extensionOptions), randomValue(rng));
        break;
    }
  }
  return argv;
}

/** An extension option and its argument: most often one the corpus gave it. */
function optionWithValue(rng: Rng, option: string): string[] {
  const seen = loadFuzzCorpus().valuesOf.get(option);
  if (seen && rng.chance(0.7)) return [option, ...rng.pick(seen)];
  const out = [option, randomValue(rng)];
  if (rng.chance(0.15)) out.push(randomValue(rng));
  return out;
}

function randomArgv(rng: Rng): string[] {
  const n = rng.weighted([[1, 0], [3, rng.range(1, 3)], [4, rng.range(3, 8)], [2, rng.range(8, 20)]] as const);
  const argv: string[] = [];
  for (let i = 0; i < n; i++) argv.push(randomToken(rng));
  return argv;
}

let bySource: Map<number, CorpusCommand[]> | null = null;

function commandsOf(source: number): readonly CorpusCommand[] {
  if (!bySource) {
    bySource = new Map();
    for (const c of loadFuzzCorpus().commands) {
      const list = bySource.get(c.source) ?? [];
      list.push(c);
      bySource.set(c.source, list);
    }
  }
  return bySource.get(source) ?? [];
}

/**
 * The next command of an episode. A real command line cannot hold a NUL (execve's words are C
 * strings): a word is cut at its first NUL, as the kernel would hand it over.
 */
export function generateArgv(rng: Rng, rules: RuleSet, source: number): string[] {
  return rawArgv(rng, rules, source).map((w) => {
    const nul = w.indexOf("\0");
    return nul < 0 ? w : w.slice(0, nul);
  });
}

function rawArgv(rng: Rng, rules: RuleSet, source: number): string[] {
  const corpus = loadFuzzCorpus();
  const mode = rng.weighted([[30, "mutated"], [10, "clean"], [40, "shaped"], [20, "random"]] as const);
  if (mode === "shaped") {
    let argv = shapedArgv(rng, rules);
    if (rng.chance(0.3)) argv = mutateTokens(rng, argv);
    return argv;
  }
  if (mode === "random") return randomArgv(rng);
  // A corpus line, from the episode's own file most of the time (its chains exist).
  const own = source >= 0 ? commandsOf(source) : [];
  const line = own.length > 0 && rng.chance(0.7) ? rng.pick(own) : rng.pick(corpus.commands);
  let argv = [...line.argv];
  if (mode === "clean") {
    if (rng.chance(0.4)) {
      const i = argv.findIndex((w) => w === "-A");
      if (i >= 0) {
        const cmd = rng.pick(["-I", "-D", "-C", "-R"]);
        argv[i] = cmd;
        if (cmd === "-R" || (cmd === "-I" && rng.chance(0.5))) argv.splice(i + 2, 0, String(rng.range(1, 3)));
      }
    }
    return argv;
  }
  for (let i = rng.range(1, 4); i > 0; i--) argv = mutateTokens(rng, argv);
  return argv;
}

// ---- running and shrinking -------------------------------------------------------------------------

export function newCommandStats(): CommandFuzzStats {
  return { cases: 0, episodes: 0, exitCodes: {}, changes: 0, rulesRechecked: 0, roundTrips: 0, ms: 0 };
}

/** Runs episodes until `cases` or `deadline`; every episode starts from a corpus rule set (or none). */
export function runCommandFuzz(opts: CommandFuzzOptions): { stats: CommandFuzzStats; log: FailureLog } {
  const corpus = loadFuzzCorpus();
  const log = opts.log ?? new FailureLog();
  const stats = newCommandStats();
  const started = Date.now();
  const length = opts.episodeLength ?? 100;
  const deepRate = opts.deepRate ?? 0.02;
  for (let episode = opts.firstEpisode ?? 0; ; episode++) {
    if (opts.cases !== undefined && stats.cases >= opts.cases) break;
    if (opts.deadline !== undefined && Date.now() >= opts.deadline) break;
    const rng = new Rng(deriveSeed(opts.seed, episode));
    const source = rng.chance(0.15) ? -1 : rng.int(corpus.ruleSets.length);
    let rules = source < 0 ? new RuleSet() : corpus.ruleSets[source]!.clone();
    const steps = opts.cases !== undefined ? Math.min(length, opts.cases - stats.cases) : length;
    let state = snapshot(rules);
    for (let step = 0; step < steps; step++) {
      const argv = generateArgv(rng, rules, source);
      stats.cases++;
      const deep = rng.chance(deepRate);
      const { violation, after } = checkCommand(rules, argv, state, stats, deep);
      if (violation) {
        if (log.wants(violation.invariant)) log.add(commandFailure(opts.seed, episode, step, state, argv, violation));
        else log.count(violation.invariant);
        // Carry on from a clean copy of the state before the failing command (which may itself not
        // read back exactly when the file round trip is what broke: take what it reads back as).
        try {
          rules = restoreSnapshot(state);
        } catch {
          rules = new RuleSet();
        }
        state = snapshot(rules);
        continue;
      }
      state = after;
    }
    // Every change of the episode, through listing and the rule-set file at once.
    const end = checkListings(rules, null) ?? checkRoundTrip(rules, state);
    if (end) {
      if (log.wants(end.invariant)) log.add(episodeFailure(opts.seed, episode, steps, source, deepRate, end));
      else log.count(end.invariant);
    } else stats.roundTrips++;
    stats.episodes++;
    stats.ms = Date.now() - started;
    opts.onProgress?.(stats);
  }
  stats.ms = Date.now() - started;
  return { stats, log };
}

/**
 * An episode whose end state fails the listing or round-trip checks: replay it with the deep checks
 * after every command to find the command that broke it.
 */
function episodeFailure(seed: number, episode: number, steps: number, source: number, deepRate: number, violation: Violation): FuzzFailure {
  const corpus = loadFuzzCorpus();
  const rng = new Rng(deriveSeed(seed, episode));
  if (source !== (rng.chance(0.15) ? -1 : rng.int(corpus.ruleSets.length))) throw new Error("episode replay out of step");
  let rules = source < 0 ? new RuleSet() : corpus.ruleSets[source]!.clone();
  let state = snapshot(rules);
  const initial = checkListings(rules, null) ?? checkRoundTrip(rules, state);
  if (initial && initial.invariant === violation.invariant) {
    return {
      fuzzer: "command",
      invariant: violation.invariant,
      message: initial.message.split("\n")[0]!,
      seed,
      where: `start of episode ${episode}`,
      reproduction: `the corpus rule set ${source < 0 ? "(empty)" : corpus.restoreTexts[source]!.name} itself, restored with counters:\n${state.trimEnd()}\nviolation: ${initial.message}`,
    };
  }
  for (let step = 0; step < steps; step++) {
    const argv = generateArgv(rng, rules, source);
    const deep = rng.chance(deepRate);
    const { violation: v, after } = checkCommand(rules, argv, state, undefined, deep);
    if (v) {
      try {
        rules = restoreSnapshot(state);
      } catch {
        rules = new RuleSet();
      }
      state = snapshot(rules);
      continue;
    }
    const extra = checkListings(rules, null) ?? checkRoundTrip(rules, after);
    if (extra && extra.invariant === violation.invariant) return commandFailure(seed, episode, step, state, argv, extra);
    state = after;
  }
  return {
    fuzzer: "command",
    invariant: violation.invariant,
    message: violation.message.split("\n")[0]!,
    seed,
    where: `end of episode ${episode}`,
    reproduction: `the episode's end state:\n${state}\nviolation: ${violation.message}`,
  };
}

function commandFailure(seed: number, episode: number, step: number, state: string, argv: readonly string[], violation: Violation): FuzzFailure {
  const shrunk = shrinkCommand(state, argv, violation.invariant);
  const lines = [
    shrunk.reproduced ? "minimal reproduction (restore the state with counters, then run the command):" : "NOT reproducible from the saved state alone; replay the episode:",
    shrunk.state === "" ? "state: (empty rule set)" : `state:\n${shrunk.state.trimEnd()}`,
    `argv: ${JSON.stringify(shrunk.argv)}`,
    `violation: ${shrunk.message}`,
    `replay: ${replayCommand("command", seed)} (episode ${episode}, step ${step})`,
  ];
  return {
    fuzzer: "command",
    invariant: violation.invariant,
    message: violation.message.split("\n")[0]!,
    seed,
    where: `episode ${episode} step ${step}`,
    reproduction: lines.join("\n"),
  };
}

function reproduce(state: string, argv: readonly string[], invariant: string): Violation | null {
  let rules: RuleSet;
  try {
    rules = restoreSnapshot(state);
  } catch {
    return null;
  }
  const v = checkCommand(rules, argv).violation;
  return v && v.invariant === invariant ? v : null;
}

/** Deletes words, shortens long words and drops state lines while the same invariant still breaks. */
export function shrinkCommand(
  state: string,
  argv: readonly string[],
  invariant: string,
  budget = 1000,
): { state: string; argv: string[]; message: string; reproduced: boolean } {
  let tries = 0;
  const test = (s: string, a: readonly string[]): Violation | null => (tries++ < budget ? reproduce(s, a, invariant) : null);
  let first = test(state, argv);
  if (!first) return { state, argv: [...argv], message: "(did not reproduce)", reproduced: false };
  let curState = state;
  let curArgv = [...argv];
  let message = first.message;
  const empty = test("", curArgv);
  if (empty) {
    curState = "";
    message = empty.message;
  }
  // Words: remove chunks, halving the chunk size.
  for (let chunk = Math.max(1, curArgv.length >> 1); chunk >= 1; chunk >>= 1) {
    for (let i = 0; i + chunk <= curArgv.length; ) {
      const candidate = [...curArgv.slice(0, i), ...curArgv.slice(i + chunk)];
      const v = test(curState, candidate);
      if (v) {
        curArgv = candidate;
        message = v.message;
      } else i++;
    }
  }
  // Long words: shorten.
  for (let i = 0; i < curArgv.length; i++) {
    while (curArgv[i]!.length > 8) {
      const w = curArgv[i]!;
      const candidate = [...curArgv];
      candidate[i] = w.slice(0, Math.max(8, w.length >> 1));
      const v = test(curState, candidate);
      if (!v) break;
      curArgv = candidate;
      message = v.message;
    }
  }
  // State: drop rule lines, then user chain lines.
  if (curState !== "") {
    let lines = curState.split("\n");
    for (const kind of [/^(\[\d+:\d+\] )?-A /, /^:.* - /, /^:/]) {
      for (let i = lines.length - 1; i >= 0; i--) {
        if (!kind.test(lines[i]!)) continue;
        const candidate = [...lines.slice(0, i), ...lines.slice(i + 1)];
        const v = test(candidate.join("\n"), curArgv);
        if (v) {
          lines = candidate;
          message = v.message;
        }
      }
    }
    // Whole tables.
    for (let i = lines.length - 1; i >= 0; i--) {
      if (!lines[i]!.startsWith("*")) continue;
      const end = lines.indexOf("COMMIT", i);
      if (end < 0) continue;
      const candidate = [...lines.slice(0, i), ...lines.slice(end + 1)];
      const v = test(candidate.join("\n"), curArgv);
      if (v) {
        lines = candidate;
        message = v.message;
      }
    }
    curState = lines.join("\n");
  }
  first = null;
  return { state: curState, argv: curArgv, message, reproduced: true };
}
