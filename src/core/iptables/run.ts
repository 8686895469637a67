// The three commands as pure functions of (rule set, arguments): what they print and their exit
// code, with error texts shaped as iptables shapes them. The CLI adds only files, locks and stdio.
import { FailedAfterOutput, KernelRefusal, ParameterProblem, PrefixedProblem, RuleSetError, TryHelp } from "../rules/errors.ts";
import type { RuleSet } from "../rules/model.ts";
import { isTableName } from "../rules/tables.ts";
import { parseCommand, VersionProblem } from "./command.ts";
import { executeCommand } from "./execute.ts";
import { restore, RestoreError, type RestoreOptions } from "./restore.ts";
import { formatSave } from "./save.ts";
import { USAGE } from "./usage.ts";
import { BACKEND, VERSION, versionTag } from "./version.ts";

export { BACKEND, VERSION } from "./version.ts";

export interface Outcome {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
  /** Whether the rule set changed (so the caller must store it). */
  readonly changed: boolean;
}


function tryHint(program: string): string {
  return `Try \`${program} -h' or '${program} --help' for more information.\n`;
}

function ensureNewline(text: string): string {
  return text.endsWith("\n") ? text : `${text}\n`;
}

/** iptables' wording for an error thrown while running one command. */
export function formatError(program: string, error: unknown): { stderr: string; exitCode: number } {
  if (error instanceof TryHelp) {
    // "Bad argument `X'" (or nothing, for -6), bare, then the hint.
    return { stderr: `${error.message === "" ? "" : `${error.message}\n`}${tryHint(program)}`, exitCode: 2 };
  }
  if (error instanceof PrefixedProblem) {
    return { stderr: `${versionTag(program)}: ${ensureNewline(error.message)}`, exitCode: error.exitCode };
  }
  if (error instanceof ParameterProblem) {
    // iptables prints the message, a newline, then the hint (messages that end in "\n" leave a blank line).
    return { stderr: `${versionTag(program)}: ${error.message}\n${tryHint(program)}`, exitCode: 2 };
  }
  if (error instanceof VersionProblem) {
    return { stderr: `${versionTag(program)}: ${ensureNewline(error.message)}`, exitCode: 3 };
  }
  if (error instanceof RuleSetError) {
    const hint = error.dmesgHint ? " Run `dmesg' for more information." : "";
    return { stderr: `${program}: ${error.message}${hint}\n`, exitCode: error.exitCode };
  }
  if (error instanceof KernelRefusal) {
    return { stderr: `${versionTag(program)}:  ${error.message}\n`, exitCode: 4 };
  }
  throw error;
}

export function runIptables(rules: RuleSet, argv: readonly string[], program = "uptables"): Outcome {
  // Warnings iptables prints while it parses (and still goes on) come first on stderr.
  let warnings = "";
  try {
    const cmd = parseCommand(argv, { program, onWarning: (text) => void (warnings += text) });
    if (cmd.command === "version") {
      const stdout = cmd.inverted ? `Not ${VERSION} (${BACKEND}) ;-)\n` : `${versionTag(program)}\n`;
      return { stdout, stderr: warnings, exitCode: 0, changed: false };
    }
    if (cmd.command === "help") {
      return { stdout: `${versionTag(program)}\n\n${USAGE(program)}`, stderr: warnings, exitCode: 0, changed: false };
    }
    const { stdout, changed } = executeCommand(rules, cmd);
    return { stdout, stderr: warnings, exitCode: 0, changed };
  } catch (error) {
    if (error instanceof FailedAfterOutput) {
      return { stdout: error.stdout, ...prefixed(warnings, formatError(program, error.cause)), changed: false };
    }
    return { stdout: "", ...prefixed(warnings, formatError(program, error)), changed: false };
  }
}

function prefixed(warnings: string, failure: { stderr: string; exitCode: number }): { stderr: string; exitCode: number } {
  return { stderr: warnings + failure.stderr, exitCode: failure.exitCode };
}

export interface SaveArgs {
  counters: boolean;
  table: string | undefined;
}

export function runSave(rules: RuleSet, args: SaveArgs, banner?: { generatedBy: string; date: string }): Outcome {
  if (args.table !== undefined && !isTableName(args.table)) {
    return { stdout: "", stderr: `Table \`${args.table}' does not exist\n`, exitCode: 1, changed: false };
  }
  const stdout = formatSave(rules, { counters: args.counters, table: args.table as never, banner });
  return { stdout, stderr: "", exitCode: 0, changed: false };
}

export function runRestore(rules: RuleSet, text: string, opts: RestoreOptions, program = "uptables-restore"): Outcome {
  try {
    const output = restore(rules, text, { program, ...opts });
    return { stdout: output.stdout, stderr: output.warnings, exitCode: 0, changed: !opts.test };
  } catch (error) {
    if (!(error instanceof RestoreError)) throw error;
    const stderr = error.output.warnings + formatRestoreError(opts.program ?? program, error);
    return { stdout: error.output.stdout, stderr, exitCode: error.exitCode, changed: false };
  }
}

/** iptables-restore's words for a refused file (after any warnings). */
export function formatRestoreError(program: string, error: RestoreError): string {
  const failure = error.failure;
  switch (failure.kind) {
    case "parameter": {
      const cause = failure.cause;
      const where = `Error occurred at line: ${failure.line}\n${tryHint(program)}`;
      // "Bad argument `X'" comes bare, as on the command line.
      if (cause instanceof TryHelp) return `${cause.message === "" ? "" : `${cause.message}\n`}${where}`;
      if (cause instanceof ParameterProblem) return `${versionTag(program)}: ${cause.message}\n${where}`;
      return `${versionTag(program)}: ${ensureNewline(cause.message)}`;
    }
    case "failed":
      return `${program}: line ${failure.line} failed${failure.cause ? `: ${failure.cause.message}` : ""}\n`;
    case "kernel":
      return `${versionTag(program)}: \n${failure.refusals
        .map((r) => `line ${r.line}: ${r.operation} failed (${r.errno}): ${r.object}\n`)
        .join("")}`;
    case "commit-expected":
      return `${program}: COMMIT expected at line ${failure.line}\n`;
  }
}
