// Entry points of the three commands: argv in, stdout/stderr and exit code out.
import { runIptables, runRestore, runSave } from "../core/iptables/run.ts";
import { VERSION, BACKEND } from "../core/iptables/run.ts";
import { isTableName } from "../core/rules/tables.ts";
import { extractRulesetOption, openBackend, type Backend } from "./backend.ts";
import { RulesetFileError } from "./ruleset-file.ts";
import { readFileSync } from "node:fs";

interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  readStdin(): string;
}

const processIo: Io = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  readStdin: () => readFileSync(0, "utf8"),
};

function withBackend(program: string, argv: string[], io: Io, fn: (backend: Backend, argv: string[]) => number): number {
  try {
    const { argv: rest, ruleset } = extractRulesetOption(argv);
    return fn(openBackend(ruleset), rest);
  } catch (error) {
    if (error instanceof Error && !(error instanceof TypeError) && !(error instanceof RangeError)) {
      io.stderr(`${program}: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

export function uptablesMain(argv: string[], io: Io = processIo): number {
  // Commands that need no rule set.
  if (argv.length === 1 && (argv[0] === "-V" || argv[0] === "--version")) {
    io.stdout(`uptables v${VERSION} (${BACKEND})\n`);
    return 0;
  }
  return withBackend("uptables", argv, io, (backend, rest) => {
    const outcome = backend.update((rules) => {
      const result = runIptables(rules, rest, "uptables");
      return { result, changed: result.changed };
    });
    io.stdout(outcome.stdout);
    io.stderr(outcome.stderr);
    return outcome.exitCode;
  });
}

/** The C library's ctime() layout, as iptables-save prints its banner date: "Mon Nov  3 15:23:24 2026". */
export function ctime(date: Date): string {
  const days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const two = (n: number): string => String(n).padStart(2, "0");
  const time = `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
  return `${days[date.getDay()]} ${months[date.getMonth()]} ${String(date.getDate()).padStart(2, " ")} ${time} ${date.getFullYear()}`;
}

function saveUsage(io: Io): number {
  io.stderr("Usage: uptables-save [-c] [-t table] [--ruleset FILE]\n");
  return 1;
}

export function uptablesSaveMain(argv: string[], io: Io = processIo, now: () => Date = () => new Date()): number {
  return withBackend("uptables-save", argv, io, (backend, rest) => {
    let counters = false;
    let table: string | undefined;
    for (let i = 0; i < rest.length; i++) {
      const word = rest[i]!;
      if (word === "-c" || word === "--counters") counters = true;
      else if (word === "-t" || word === "--table") {
        table = rest[++i];
        if (table === undefined) return saveUsage(io);
      } else if (word.startsWith("-t") && word.length > 2) table = word.slice(2);
      else if (word.startsWith("--table=")) table = word.slice(8);
      else if (word === "-M" || word === "--modprobe") i++;
      else return saveUsage(io);
    }
    const date = ctime(now());
    const outcome = backend.update((rules) => ({
      result: runSave(rules, { counters, table }, { generatedBy: `uptables-save v${VERSION} (${BACKEND})`, date }),
      changed: false,
    }));
    io.stdout(outcome.stdout);
    io.stderr(outcome.stderr);
    return outcome.exitCode;
  });
}

function restoreUsage(io: Io, problem: string): number {
  io.stderr(
    `uptables-restore: ${problem}\nUsage: uptables-restore [-c] [-n] [-t] [-T table] [--ruleset FILE] [file]\n`,
  );
  return 2;
}

export function uptablesRestoreMain(argv: string[], io: Io = processIo): number {
  return withBackend("uptables-restore", argv, io, (backend, rest) => {
    let counters = false;
    let noflush = false;
    let test = false;
    let table: string | undefined;
    let file: string | undefined;
    for (let i = 0; i < rest.length; i++) {
      const word = rest[i]!;
      if (word === "-c" || word === "--counters") counters = true;
      else if (word === "-n" || word === "--noflush") noflush = true;
      else if (word === "-t" || word === "--test") test = true;
      else if (word === "-v" || word === "--verbose" || word === "-w" || word === "--wait") continue;
      else if (word === "-T" || word === "--table") {
        table = rest[++i];
        if (table === undefined) return restoreUsage(io, "option \"-T\" requires an argument");
      } else if (word.startsWith("--table=")) table = word.slice(8);
      else if (/^-[cnt]+$/.test(word)) {
        if (word.includes("c")) counters = true;
        if (word.includes("n")) noflush = true;
        if (word.includes("t")) test = true;
      } else if (word.startsWith("-") && word !== "-") return restoreUsage(io, `unknown option "${word}"`);
      else if (file !== undefined) return restoreUsage(io, "only one file may be given");
      else file = word;
    }
    if (table !== undefined && !isTableName(table)) return restoreUsage(io, `table '${table}' does not exist`);
    let text: string;
    try {
      text = file === undefined || file === "-" ? io.readStdin() : readFileSync(file, "utf8");
    } catch (error) {
      io.stderr(`uptables-restore: Can't open ${file}: ${(error as Error).message}\n`);
      return 1;
    }
    const outcome = backend.update((rules) => {
      const result = runRestore(rules, text, { counters, noflush, test, table: table as never });
      return { result, changed: result.changed };
    });
    io.stdout(outcome.stdout);
    io.stderr(outcome.stderr);
    return outcome.exitCode;
  });
}

export { RulesetFileError };
