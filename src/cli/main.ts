// Entry points of the three commands: argv in, stdout/stderr and exit code out.
import { closeSync, openSync, readFileSync, writeSync } from "node:fs";
import { Getopt, type LongOption } from "../core/iptables/getopt.ts";
import { versionTag } from "../core/iptables/version.ts";
import { extractRulesetOption, openBackend, type Backend } from "./backend.ts";
import { RulesetFileError } from "./ruleset-file.ts";

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
    io.stdout(`${versionTag("uptables")}\n`);
    return 0;
  }
  return withBackend("uptables", argv, io, (backend, rest) => {
    const outcome = backend.run({ op: "iptables", argv: rest });
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

// iptables-save 1.8.9's options ("bt:M:cdf:V"): -b is said to be missing, -d (dump) and -M
// (modprobe) change nothing, -f writes to a file instead of stdout.
const SAVE_OPTIONS: readonly LongOption[] = [
  { name: "counters", hasArg: 0, val: "c" },
  { name: "dump", hasArg: 0, val: "d" },
  { name: "table", hasArg: 1, val: "t" },
  { name: "modprobe", hasArg: 1, val: "M" },
  { name: "file", hasArg: 1, val: "f" },
  { name: "version", hasArg: 0, val: "V" },
];

export function uptablesSaveMain(argv: string[], io: Io = processIo, now: () => Date = () => new Date()): number {
  const program = "uptables-save";
  return withBackend(program, argv, io, (backend, rest) => {
    let counters = false;
    let table: string | undefined;
    // -f opens its file at once, as iptables-save does (created even when a later word is refused).
    let file: number | null = null;
    try {
      const getopt = new Getopt(program, rest, "bt:M:cdf:V", SAVE_OPTIONS);
      for (let option = getopt.next(); option !== null; option = getopt.next()) {
        if (option.kind === "error") {
          io.stderr(`${option.message}Look at manual page \`${program}.8' for more information.\n`);
          return 1;
        }
        switch (option.letter) {
          case "b":
            io.stderr("-b/--binary option is not implemented\n");
            break;
          case "c":
            counters = true;
            break;
          case "t":
            table = option.arg!;
            break;
          case "f":
            if (file !== null) closeSync(file);
            try {
              file = openSync(option.arg!, "w", 0o644);
            } catch (error) {
              file = null;
              io.stderr(`Failed to open file, error: ${strerror(error)}\n`);
              return 1;
            }
            break;
          case "V":
            io.stdout(`${versionTag(program)}\n`);
            return 0;
          // -d (dump) and -M (modprobe): nothing to do.
        }
      }
      if (getopt.rest().length > 0) {
        io.stderr("Unknown arguments found on commandline\n");
        return 1;
      }
      const date = ctime(now());
      const outcome = backend.run({ op: "save", counters, table, date });
      if (file !== null) writeSync(file, outcome.stdout);
      else io.stdout(outcome.stdout);
      io.stderr(outcome.stderr);
      return outcome.exitCode;
    } finally {
      if (file !== null) closeSync(file);
    }
  });
}

// iptables-restore 1.8.9's options ("bcvVthnM:T:wW"); --ipv4 and --ipv6 are known but refused.
const RESTORE_OPTIONS: readonly LongOption[] = [
  { name: "counters", hasArg: 0, val: "c" },
  { name: "verbose", hasArg: 0, val: "v" },
  { name: "version", hasArg: 0, val: "V" },
  { name: "test", hasArg: 0, val: "t" },
  { name: "help", hasArg: 0, val: "h" },
  { name: "noflush", hasArg: 0, val: "n" },
  { name: "modprobe", hasArg: 1, val: "M" },
  { name: "table", hasArg: 1, val: "T" },
  { name: "ipv4", hasArg: 0, val: "4" },
  { name: "ipv6", hasArg: 0, val: "6" },
  { name: "wait", hasArg: 2, val: "w" },
  { name: "wait-interval", hasArg: 2, val: "W" },
];

/** iptables-restore's usage (on stderr for -h), word for word, with uptables' --ruleset added. */
function restoreUsage(program: string): string {
  const options = [
    "[ --counters ]",
    "[ --verbose ]",
    "[ --version]",
    "[ --test ]",
    "[ --help ]",
    "[ --noflush ]",
    "[ --table=<TABLE> ]",
    "[ --modprobe=<command> ]",
    "[ --ipv4 ]",
    "[ --ipv6 ]",
    "[ --ruleset=<FILE> ]",
  ];
  return `Usage: ${program} [-c] [-v] [-V] [-t] [-h] [-n] [-T table] [-M command] [-4] [-6] [file]\n${options.map((o) => `\t   ${o}\n`).join("")}`;
}

export function uptablesRestoreMain(argv: string[], io: Io = processIo): number {
  const program = "uptables-restore";
  return withBackend(program, argv, io, (backend, rest) => {
    let counters = false;
    let noflush = false;
    let test = false;
    let verbose = 0;
    let table: string | undefined;
    const tryHelp = `Try \`${program} -h' for more information.\n`;
    const getopt = new Getopt(program, rest, "bcvVthnM:T:wW", RESTORE_OPTIONS);
    for (let option = getopt.next(); option !== null; option = getopt.next()) {
      if (option.kind === "error") {
        io.stderr(option.message + tryHelp);
        return 1;
      }
      switch (option.letter) {
        case "b":
          io.stderr("-b/--binary option is not implemented\n");
          break;
        case "c":
          counters = true;
          break;
        case "v":
          verbose++;
          break;
        case "V":
          io.stdout(`${versionTag(program)}\n`);
          return 0;
        case "t":
          test = true;
          break;
        case "h":
          io.stderr(restoreUsage(program));
          return 0;
        case "n":
          noflush = true;
          break;
        case "M":
          break;
        case "T":
          table = option.arg!;
          break;
        case "w":
        case "W": {
          // Ignored, and so is a number after them (xs_has_arg: a next word not starting with - or !).
          const next = rest[getopt.optind];
          if (option.arg === null && next !== undefined && !next.startsWith("-") && !next.startsWith("!")) getopt.optind++;
          break;
        }
        default:
          // --ipv4 and --ipv6.
          io.stderr(tryHelp);
          return 1;
      }
    }
    const files = getopt.rest();
    if (files.length > 1) {
      io.stderr("Unknown arguments found on commandline\n");
      return 1;
    }
    let text: string;
    try {
      text = files.length === 0 ? io.readStdin() : readFileSync(files[0]!, "utf8");
    } catch (error) {
      io.stderr(`Can't open ${files[0]}: ${strerror(error)}\n`);
      return 1;
    }
    const restoreOptions = { counters, noflush, test, verbose, ...(table === undefined ? {} : { table }) };
    const outcome = backend.run({ op: "restore", text, options: restoreOptions });
    io.stdout(outcome.stdout);
    io.stderr(outcome.stderr);
    return outcome.exitCode;
  });
}

/** strerror() for the errors opening a file gives. */
function strerror(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const words: Record<string, string> = {
    ENOENT: "No such file or directory",
    EACCES: "Permission denied",
    EISDIR: "Is a directory",
    ENOTDIR: "Not a directory",
    EROFS: "Read-only file system",
    ENAMETOOLONG: "File name too long",
  };
  return (code && words[code]) ?? (error as Error).message;
}

export { RulesetFileError };
