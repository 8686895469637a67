// iptables-restore: a rule-set file read as iptables-nft 1.8.9's xtables-restore reads it, with the
// same errors at the same lines, and applied as one transaction.
//
// How iptables-restore 1.8.9 reads (uptables follows it line for line):
// - Lines are read as they are: only an empty line and a line starting with "#" are skipped (a
//   comment is echoed with -v); nothing is trimmed, a "\r" stays part of the line, a NUL ends it.
// - "*TABLE" starts a table: flushed, i.e. deleted with all its chains, unless -n; with -T another
//   table is skipped whole. ":CHAIN POLICY [p:b]" declares a built-in chain's policy or a user
//   chain (with -n a user chain declared again is flushed). Any other line in a table is an
//   iptables command without the program name ("-A INPUT ..."), split as argv.ts says, optionally
//   after "[packets:bytes]" (used with -c). "COMMIT" ends the table. Anything outside a table (a
//   rule, a second COMMIT, blanks) "failed".
// - Parsing happens line by line; errors then name the line. What the lines ask for is queued and
//   carried out at COMMIT, in order (iptables-nft's nft_prepare): a jump to a chain not declared
//   before it is refused there ("Chain 'X' does not exist", at the COMMIT line), a command the rule
//   set refuses "failed" at its own line, and the kernel then checks the table's batch, reporting
//   every message it refuses with its line (validate.ts). With -t nothing is carried out.
//
// Where uptables differs on purpose: iptables-nft commits each table at its COMMIT, so a file
// refused in its second table leaves the first one applied; uptables applies the whole file or
// nothing. A refused file always leaves the rule set exactly as it was.
import type { RuleSet } from "../rules/model.ts";
import type { Hook } from "../rules/hooks.ts";
import { countPolicy, ensureBuiltinChain, newUserChain } from "../rules/model.ts";
import {
  FailedAfterOutput,
  KernelRefusal,
  ParameterProblem,
  PrefixedProblem,
  RuleSetError,
  TryHelp,
} from "../rules/errors.ts";
import { BUILTIN_CHAINS, isTableName, type TableName } from "../rules/tables.ts";
import { commitBatch, type KernelBatch, type MessageRefusal } from "../rules/validate.ts";
import { isCSpace, strtoumax } from "../net/c-number.ts";
import { splitRestoreLine } from "./argv.ts";
import { MAX_CHAIN_NAME, counterValue, parseCommand, VersionProblem, type Command } from "./command.ts";
import { applyCommand } from "./execute.ts";
import { UNCOUNTED_POLICY_MARK } from "./save.ts";
import { isStandardTargetName } from "./target-names.ts";
import { USAGE } from "./usage.ts";
import { versionTag } from "./version.ts";

export interface RestoreOptions {
  /** -c: take "[packets:bytes]" counters from the file (policies and rules). */
  readonly counters?: boolean;
  /** -n: do not flush the tables before adding the file's rules. */
  readonly noflush?: boolean;
  /** -t: only parse the file; nothing is carried out (so only parsing errors show). */
  readonly test?: boolean;
  /** -T: restore only this table; the others are skipped (any name: an unknown one skips them all). */
  readonly table?: string;
  /** -v, how many times: comments are echoed, each table's flush and each rule printed. */
  readonly verbose?: number;
  /** The program name in messages; "uptables-restore" unless told. */
  readonly program?: string;
  /**
   * The text is one of uptables' own rule-set files (save.ts, `kernelView`), which must give back
   * the very rule set that was written: a table named by "*TABLE" exists even when the file gives
   * it no chain (iptables-restore would leave it out), a ":CHAIN" line takes any name -N or -E
   * allowed, and inside quotes "\n" stands for a newline (which iptables-save prints as it is,
   * breaking the line).
   */
  readonly ruleSetFile?: boolean;
}

/** What a restore printed: stdout (with -v, or -h/-V lines), and warnings for stderr. */
export interface RestoreOutput {
  readonly stdout: string;
  readonly warnings: string;
}

/** Why a restore failed, in the shapes iptables-restore prints (run.ts words them). */
export type RestoreFailure =
  /** A parameter problem: "<tag>: MSG" (bare for "Bad argument"), "Error occurred at line: N", the hint. */
  | { readonly kind: "parameter"; readonly line: number; readonly cause: ParameterProblem | TryHelp | VersionProblem | PrefixedProblem }
  /** "<prog>: line N failed" (": MSG" when the rule set said why). */
  | { readonly kind: "failed"; readonly line: number; readonly cause: RuleSetError | null }
  /** The kernel refused messages of a table's batch: "<tag>: " then "line N: OP failed (errno): object" each. */
  | { readonly kind: "kernel"; readonly refusals: readonly MessageRefusal[] }
  /** The file ended inside a table: "<prog>: COMMIT expected at line N". */
  | { readonly kind: "commit-expected"; readonly line: number };

export class RestoreError extends Error {
  constructor(
    readonly failure: RestoreFailure,
    /** What was printed before the failure (stdout and warnings still reach the user). */
    readonly output: RestoreOutput,
  ) {
    super(describeFailure(failure));
  }

  /** 1 for "failed" lines and a missing COMMIT, 2 for parameter problems, 4 for the kernel's refusals. */
  get exitCode(): number {
    switch (this.failure.kind) {
      case "parameter":
        return this.failure.cause.exitCode;
      case "kernel":
        return 4;
      default:
        return 1;
    }
  }
}

function describeFailure(failure: RestoreFailure): string {
  switch (failure.kind) {
    case "parameter":
      return `line ${failure.line}: ${failure.cause.message}`;
    case "failed":
      return `line ${failure.line} failed${failure.cause ? `: ${failure.cause.message}` : ""}`;
    case "kernel":
      return failure.refusals.map((r) => `line ${r.line}: ${r.operation} failed (${r.errno})`).join("; ");
    case "commit-expected":
      return `COMMIT expected at line ${failure.line}`;
  }
}

/** What one table's lines ask for, carried out in order at its COMMIT. */
type TableStep =
  /** Without -n: the table goes, with all its chains (with -v: each chain flushed, then deleted, as -F -v and -X -v). */
  | { readonly kind: "flush" }
  /** A rule-set file's table that must exist even without chains. */
  | { readonly kind: "keep-table" }
  /** ":BUILTIN POLICY [p:b]": the chain is created, its policy and counters set ("-" leaves them). */
  | { readonly kind: "policy"; readonly line: number; readonly chain: string; readonly policy: string; readonly counters: readonly [number, number] | null; readonly uncounted: boolean }
  /** ":USER - [p:b]": the chain is created; one that exists is flushed with -n, else left. */
  | { readonly kind: "user-chain"; readonly line: number; readonly chain: string }
  | { readonly kind: "command"; readonly line: number; readonly command: Command };

/**
 * Applies `text` to `rules` as one transaction and returns what was printed; throws RestoreError
 * and leaves `rules` untouched when iptables-restore would refuse any part of it.
 */
export function restore(rules: RuleSet, text: string, opts: RestoreOptions = {}): RestoreOutput {
  return new Restore(rules, opts).run(text);
}

/** The lines as fgets() reads them: each with its "\n" (the last one may lack it), cut at a NUL. */
function readLines(text: string): string[] {
  const lines = text.split(/(?<=\n)/);
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines.map((line) => {
    const nul = line.indexOf("\0");
    return nul < 0 ? line : line.slice(0, nul);
  });
}

/** strtok(text, " \t\n") run to the end: the words of a table or chain line. */
function tokens(text: string): string[] {
  return text.split(/[ \t\n]+/).filter((w) => w !== "");
}

/** sscanf(text, "[%llu:%llu]") == 2: policy counters, or null when they do not scan. */
function scanPolicyCounters(text: string): readonly [bigint, bigint] | null {
  if (!text.startsWith("[")) return null;
  const packets = strtoumax(text.slice(1), 10);
  if (packets === null) return null;
  const rest = text.slice(1 + packets.end);
  if (!rest.startsWith(":")) return null;
  const bytes = strtoumax(rest.slice(1), 10);
  if (bytes === null) return null;
  return [packets.value, bytes.value];
}

/**
 * A rule line's "[packets:bytes]" prefix as iptables-restore splits it (strtok on ":" then "]"):
 * the two counter words and where the command starts; null when the line has none.
 */
function splitRuleCounters(buffer: string, line: number): { packets: string; bytes: string; rest: string } | null {
  if (!buffer.startsWith("[")) return null;
  const close = buffer.indexOf("]");
  if (close < 0) throw new ParameterProblem(`Bad line ${line}: need ]`);
  // strtok(buffer + 1, ":"): leading ":" skipped, the word runs to the next ":" (or the end).
  let i = 1;
  while (buffer[i] === ":") i++;
  if (i >= buffer.length) throw new ParameterProblem(`Bad line ${line}: need :`);
  const colon = buffer.indexOf(":", i);
  const packets = colon < 0 ? buffer.slice(i) : buffer.slice(i, colon);
  // strtok(NULL, "]"): on after that ":", leading "]" skipped, the word runs to the next "]".
  let j = colon < 0 ? buffer.length : colon + 1;
  while (buffer[j] === "]") j++;
  if (j >= buffer.length) throw new ParameterProblem(`Bad line ${line}: need ]`);
  const end = buffer.indexOf("]", j);
  const bytes = end < 0 ? buffer.slice(j) : buffer.slice(j, end);
  return { packets, bytes, rest: buffer.slice(close + 1) };
}

class Restore {
  private readonly program: string;
  private stdout = "";
  private warnings = "";
  /** The whole file's transaction: tables are committed into it, and it replaces `rules` at the end. */
  private working: RuleSet;
  /** The table being read (null outside a table), and what its lines asked for. */
  private table: TableName | null = null;
  private steps: TableStep[] = [];
  /** The last "*TABLE" seen, also when -T skips it. */
  private lastTable: string | null = null;

  constructor(
    private readonly rules: RuleSet,
    private readonly opts: RestoreOptions,
  ) {
    this.program = opts.program ?? "uptables-restore";
    this.working = rules.clone();
  }

  run(text: string): RestoreOutput {
    const lines = readLines(text);
    for (let i = 0; i < lines.length; i++) {
      const stop = this.line(lines[i]!, i + 1);
      if (stop) break;
    }
    if (this.table !== null) this.fail({ kind: "commit-expected", line: lines.length + 1 });
    if (!this.opts.test) this.rules.replaceWith(this.working);
    return this.output();
  }

  private output(): RestoreOutput {
    return { stdout: this.stdout, warnings: this.warnings };
  }

  private fail(failure: RestoreFailure): never {
    throw new RestoreError(failure, this.output());
  }

  /** One line; returns true when iptables-restore stops there with success (-h, -V). */
  private line(buffer: string, lineNo: number): boolean {
    if (buffer.startsWith("\n")) return false;
    if (buffer.startsWith("#")) {
      if (this.opts.verbose) this.stdout += buffer;
      return false;
    }
    if (this.table !== null && buffer.startsWith("COMMIT") && (buffer.length === 6 || buffer[6] === "\n")) {
      this.commit(lineNo);
      return false;
    }
    if (buffer.startsWith("*") && this.table === null) {
      this.tableLine(buffer, lineNo);
      return false;
    }
    if (buffer.startsWith(":") && this.table !== null) {
      this.chainLine(buffer, lineNo);
      return false;
    }
    if (this.table !== null) return this.ruleLine(buffer, lineNo);
    // Outside a table: skipped while -T skips a table, else the line "failed".
    if (this.opts.table !== undefined && this.lastTable !== null && this.lastTable !== this.opts.table) return false;
    return this.fail({ kind: "failed", line: lineNo, cause: null });
  }

  private parameterProblem(lineNo: number, message: string): never {
    return this.fail({ kind: "parameter", line: lineNo, cause: new ParameterProblem(message) });
  }

  private tableLine(buffer: string, lineNo: number): void {
    const name = tokens(buffer.slice(1))[0];
    if (name === undefined) this.parameterProblem(lineNo, `${this.program}: line ${lineNo} table name invalid`);
    if (!isTableName(name)) this.parameterProblem(lineNo, `${this.program}: line ${lineNo} table name '${name}' invalid`);
    this.lastTable = name;
    if (this.opts.table !== undefined && this.opts.table !== name) return;
    this.table = name;
    this.steps = [];
    if (!this.opts.noflush) this.steps.push({ kind: "flush" });
    if (this.opts.ruleSetFile) this.steps.push({ kind: "keep-table" });
  }

  private chainLine(buffer: string, lineNo: number): void {
    const [chain, policy, counterText, mark] = tokens(buffer.slice(1));
    if (chain === undefined) this.parameterProblem(lineNo, `${this.program}: line ${lineNo} chain name invalid`);
    // A rule-set file holds what -N and -E let through (-E takes "ACCEPT"): it reads back as it is.
    if (!this.opts.ruleSetFile) checkDeclaredChainName(chain, (message) => this.parameterProblem(lineNo, message));
    if (policy === undefined) this.parameterProblem(lineNo, `${this.program}: line ${lineNo} policy invalid`);
    if (!(BUILTIN_CHAINS[this.table!] as readonly string[]).includes(chain)) {
      // Any word stands for the policy of a user chain.
      this.steps.push({ kind: "user-chain", line: lineNo, chain });
      return;
    }
    let counters: readonly [number, number] | null = null;
    if (this.opts.counters) {
      const scanned = counterText === undefined ? null : scanPolicyCounters(counterText);
      if (scanned === null) this.parameterProblem(lineNo, `invalid policy counters for chain '${chain}'`);
      try {
        counters = [counterValue(scanned[0], "packet"), counterValue(scanned[1], "byte")];
      } catch (error) {
        if (error instanceof ParameterProblem) this.parameterProblem(lineNo, error.message);
        throw error;
      }
    }
    // Only uptables' own file marks a base chain without a policy counter; iptables-restore ignores more words.
    const uncounted = this.opts.ruleSetFile === true && mark === UNCOUNTED_POLICY_MARK;
    this.steps.push({ kind: "policy", line: lineNo, chain, policy, counters, uncounted });
  }

  private ruleLine(buffer: string, lineNo: number): boolean {
    let command: Command;
    try {
      const counters = splitRuleCounters(buffer, lineNo);
      const argv = ["-t", this.table!];
      if (!this.opts.noflush) for (let i = 0; i < (this.opts.verbose ?? 0); i++) argv.push("-v");
      if (this.opts.counters && counters) argv.push("--set-counters", counters.packets, counters.bytes);
      argv.push(...splitRestoreLine(counters ? counters.rest : buffer, { escapedNewlines: this.opts.ruleSetFile }));
      command = parseCommand(argv, { restore: true, program: this.program, onWarning: (text) => void (this.warnings += text) });
    } catch (error) {
      if (error instanceof ParameterProblem || error instanceof TryHelp || error instanceof VersionProblem) {
        this.fail({ kind: "parameter", line: lineNo, cause: error });
      }
      throw error;
    }
    switch (command.command) {
      case "help":
        this.stdout += `${versionTag(this.program)}\n\n${USAGE(this.program)}`;
        return this.stopHere();
      case "version":
        this.stdout += `${versionTag(this.program)}\n`;
        return this.stopHere();
      case "skip":
        return false;
      default:
        this.steps.push({ kind: "command", line: lineNo, command });
        return false;
    }
  }

  /** -h and -V end iptables-restore with success: the tables committed so far stay, the current one is dropped. */
  private stopHere(): boolean {
    this.table = null;
    return true;
  }

  private commit(lineNo: number): void {
    const name = this.table!;
    const steps = this.steps;
    this.table = null;
    this.steps = [];
    if (this.opts.test) return;
    const committed = commitBatch(this.working, (rules, batch) => this.carryOut(rules, name, steps, batch, lineNo));
    this.stdout += committed.result;
    if (committed.refusals.length > 0) this.fail({ kind: "kernel", refusals: committed.refusals });
    this.working = committed.rules;
  }

  /** A table's steps, as nft_prepare carries them out at COMMIT; returns what they printed. */
  private carryOut(rules: RuleSet, name: TableName, steps: readonly TableStep[], batch: KernelBatch, commitLine: number): string {
    let printed = "";
    for (const step of steps) {
      const stepLine = step.kind === "flush" || step.kind === "keep-table" ? commitLine : step.line;
      batch.line = stepLine;
      try {
        printed += this.carryOutStep(rules, name, step, batch);
      } catch (error) {
        let cause = error;
        if (cause instanceof FailedAfterOutput) {
          printed += cause.stdout;
          cause = cause.cause;
        }
        this.stdout += printed;
        // Userspace's own refusals at COMMIT ("Chain 'X' does not exist") name the COMMIT line.
        if (cause instanceof ParameterProblem || cause instanceof TryHelp || cause instanceof VersionProblem || cause instanceof PrefixedProblem) {
          this.fail({ kind: "parameter", line: commitLine, cause });
        }
        if (cause instanceof RuleSetError) this.fail({ kind: "failed", line: stepLine, cause });
        if (cause instanceof KernelRefusal) {
          const { operation, errno, object, detail } = cause;
          this.fail({ kind: "kernel", refusals: [{ operation, errno: errno as MessageRefusal["errno"], object, reason: detail, line: stepLine }] });
        }
        throw cause;
      }
    }
    return printed;
  }

  private carryOutStep(rules: RuleSet, name: TableName, step: TableStep, batch: KernelBatch): string {
    switch (step.kind) {
      case "flush":
        if (!this.opts.verbose) {
          rules.tables.delete(name);
          return "";
        }
        // iptables-restore -v flushes each chain and deletes the user chains, saying so.
        return (
          applyCommand(rules, parseCommand(["-t", name, "-F", "-v"]), batch).stdout +
          applyCommand(rules, parseCommand(["-t", name, "-X", "-v"]), batch).stdout
        );
      case "keep-table":
        rules.table(name);
        return "";
      case "policy": {
        const chain = ensureBuiltinChain(rules.table(name), step.chain as Hook);
        // Any ":CHAIN" line gives the base chain its policy counter (iptables-nft sends it along),
        // but for uptables' own file saying the chain had none.
        if (!step.uncounted) countPolicy(chain);
        if (step.policy === "-") return "";
        if (step.policy !== "ACCEPT" && step.policy !== "DROP") throw new RuleSetError("Bad policy name.", 1, true);
        // Without -c the policy's counters are set too: to zero.
        chain.policy = step.policy;
        chain.policyCounters.packets = step.counters?.[0] ?? 0;
        chain.policyCounters.bytes = step.counters?.[1] ?? 0;
        return "";
      }
      case "user-chain": {
        const table = rules.table(name);
        const existing = table.chains.get(step.chain);
        if (existing) {
          // "Apparently -n still flushes existing user defined chains that are redefined."
          if (this.opts.noflush) existing.rules = [];
          return "";
        }
        table.chains.set(step.chain, newUserChain(step.chain));
        batch.chainCreated(name, step.chain);
        return "";
      }
      case "command":
        return applyCommand(rules, step.command, batch).stdout;
    }
  }
}

/** The checks iptables-restore 1.8.9 makes on the name of a ":CHAIN" line. */
function checkDeclaredChainName(name: string, refuse: (message: string) => never): void {
  if (name.length > MAX_CHAIN_NAME) refuse(`chain name \`${name}' too long (must be under ${MAX_CHAIN_NAME + 1} chars)`);
  if (name.startsWith("-") || name.startsWith("!")) refuse(`chain name not allowed to start with \`${name[0]}'`);
  // Only the standard targets: a ":DNAT" line is taken (unlike `-N DNAT`).
  if (isStandardTargetName(name)) refuse("chain name may not clash with target name");
  for (const ch of name) if (isCSpace(ch)) refuse(`Invalid chain name \`${name}'`);
}
