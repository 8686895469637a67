// iptables-restore: a whole file applied as one transaction. Every table in the file is built on a
// copy and checked as the kernel would check it; only when all of them pass is the rule set replaced,
// so a bad file changes nothing and the error names its line.
import { FailedAfterOutput, KernelRefusal, ParameterProblem, PrefixedProblem, RuleSetError, TryHelp } from "../rules/errors.ts";
import { ensureBuiltinChain, isBuiltinChainName, newTable, newUserChain, type Rule, type RuleSet } from "../rules/model.ts";
import { isTableName, type TableName } from "../rules/tables.ts";
import { validateTable } from "../rules/validate.ts";
import { splitRestoreLine, UnterminatedQuote } from "./argv.ts";
import { parseCommand, VersionProblem } from "./command.ts";
import { applyCommand, checkRestoreChainName } from "./execute.ts";

export interface RestoreOptions {
  /** -c: take "[packets:bytes]" counters from the file. */
  readonly counters?: boolean;
  /** -n: do not flush the tables before adding the file's rules. */
  readonly noflush?: boolean;
  /** -t: only check the file, change nothing. */
  readonly test?: boolean;
  /** -T: restore only this table. */
  readonly table?: TableName;
}

/** Why a restore failed, with the line iptables-restore would name. */
export class RestoreError extends Error {
  constructor(
    readonly line: number,
    override readonly cause: Error,
    /** "parameter": "<prog>: msg / Error occurred at line: N"; "failed": "line N failed: msg"; "plain": as is. */
    readonly style: "parameter" | "failed" | "kernel" | "plain",
  ) {
    super(cause.message);
  }
  get exitCode(): number {
    if (this.style === "plain" || this.style === "failed") return 1;
    return (this.cause as { exitCode?: number }).exitCode ?? 2;
  }
}

const COUNTER_PREFIX = /^\[([0-9]+):([0-9]+)\]\s+/;

/** Applies `text` to `rules` atomically; throws RestoreError and leaves `rules` untouched on any error. */
export function restore(rules: RuleSet, text: string, opts: RestoreOptions = {}): void {
  const working = rules.clone();
  const lines = text.split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  let current: TableName | null = null;
  let skipping = false;
  let ruleLines = new Map<Rule, number>();

  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i]!.replace(/\r$/, "");
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;

    if (current === null) {
      if (!trimmed.startsWith("*")) {
        throw new RestoreError(lineNo, new ParameterProblem(`Bad argument \`${splitRestoreLine(trimmed)[0] ?? trimmed}'`), "parameter");
      }
      const name = trimmed.slice(1).trim();
      if (!isTableName(name)) {
        throw new RestoreError(lineNo, new ParameterProblem(`iptables-restore: line ${lineNo} table name '${name}' invalid`), "parameter");
      }
      current = name;
      skipping = opts.table !== undefined && opts.table !== name;
      // Flushing the table deletes its chains too; the chain lines below declare them again.
      if (!skipping && !opts.noflush) working.tables.set(name, newTable(name));
      if (!skipping) working.table(name);
      ruleLines = new Map();
      continue;
    }

    if (trimmed === "COMMIT") {
      if (!skipping) {
        const table = working.table(current);
        const problem = validateTable(table);
        if (problem) {
          const rule = table.chains.get(problem.chain)?.rules[problem.ruleIndex];
          const at = (rule && ruleLines.get(rule)) ?? lineNo;
          throw new RestoreError(
            at,
            new KernelRefusal("RULE_APPEND", problem.errno, `rule in chain ${problem.chain}`, problem.reason),
            "kernel",
          );
        }
      }
      current = null;
      continue;
    }
    if (skipping) continue;
    const table = working.table(current);

    if (trimmed.startsWith(":")) {
      const words = trimmed.slice(1).split(/\s+/);
      const [chainName, policy, counterText] = words;
      if (!chainName || policy === undefined) {
        throw new RestoreError(lineNo, new ParameterProblem(`iptables-restore: line ${lineNo} bad chain line`), "parameter");
      }
      const existing = table.chains.get(chainName);
      if (policy === "-") {
        if (isBuiltinChainName(table, chainName)) {
          throw new RestoreError(lineNo, new RuleSetError("Bad built-in chain name."), "failed");
        }
        if (existing) existing.rules = [];
        else {
          try {
            checkRestoreChainName(chainName);
          } catch (error) {
            throw new RestoreError(lineNo, error as Error, "parameter");
          }
          table.chains.set(chainName, newUserChain(chainName));
        }
        continue;
      }
      if (!isBuiltinChainName(table, chainName)) throw new RestoreError(lineNo, new RuleSetError("Bad built-in chain name."), "failed");
      if (policy !== "ACCEPT" && policy !== "DROP") throw new RestoreError(lineNo, new RuleSetError("Bad policy name."), "failed");
      const chain = ensureBuiltinChain(table, chainName);
      chain.policy = policy;
      if (opts.counters && counterText) {
        const m = /^\[([0-9]+):([0-9]+)\]$/.exec(counterText);
        if (!m) throw new RestoreError(lineNo, new ParameterProblem("invalid policy counters for chain '" + chainName + "'"), "parameter");
        chain.policyCounters.packets = Number(m[1]);
        chain.policyCounters.bytes = Number(m[2]);
      }
      continue;
    }

    // A rule line: an iptables command without the program name, optionally "[p:b] " first.
    let body = trimmed;
    let counters: { packets: number; bytes: number } | null = null;
    const prefix = COUNTER_PREFIX.exec(body);
    if (prefix) {
      counters = { packets: Number(prefix[1]), bytes: Number(prefix[2]) };
      body = body.slice(prefix[0].length);
    }
    let argv: string[];
    try {
      argv = splitRestoreLine(body);
    } catch (error) {
      if (error instanceof UnterminatedQuote) {
        throw new RestoreError(lineNo, new ParameterProblem("Unterminated quoted string"), "parameter");
      }
      throw error;
    }
    if (argv.includes("-t") || argv.includes("--table")) {
      throw new RestoreError(lineNo, new ParameterProblem("The -t option cannot be used in iptables-restore.\n"), "parameter");
    }
    try {
      const parsed = parseCommand(argv, { restoreTable: current });
      const c = counters ?? { packets: 0, bytes: 0 };
      const rules = parsed.rules.map((rule) => {
        const withCounters = { ...rule, counters: opts.counters ? { packets: c.packets, bytes: c.bytes } : { packets: 0, bytes: 0 } };
        ruleLines.set(withCounters, lineNo);
        return withCounters;
      });
      if (parsed.command === "list" || parsed.command === "list-rules" || parsed.command === "help" || parsed.command === "version") {
        throw new ParameterProblem(`Bad argument \`${argv[0]}'`);
      }
      applyCommand(working, { ...parsed, rules, verbose: 0 });
    } catch (error) {
      const cause = error instanceof FailedAfterOutput ? error.cause : error;
      if (cause instanceof ParameterProblem || cause instanceof VersionProblem || cause instanceof TryHelp) {
        throw new RestoreError(lineNo, cause, "parameter");
      }
      if (cause instanceof RuleSetError || cause instanceof PrefixedProblem) throw new RestoreError(lineNo, cause, "failed");
      if (cause instanceof KernelRefusal) throw new RestoreError(lineNo, cause, "kernel");
      throw error;
    }
  }
  if (current !== null) {
    throw new RestoreError(lines.length + 1, new Error(`COMMIT expected at line ${lines.length + 1}`), "plain");
  }
  if (!opts.test) rules.replaceWith(working);
}
