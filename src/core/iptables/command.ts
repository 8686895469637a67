// The iptables(8) command line: which command, which table and chain, and the rules it carries.
//
// Parsing follows iptables 1.8.9's own loop (do_parse in xshared.c) step for step, because users
// meet its quirks as errors: GNU getopt_long in "return in order" mode (options in any order,
// long options by unambiguous prefix, a word that is no option is a "Bad argument"), `!` before
// the option it inverts, extension options dispatched to the extension that declared them, the
// protocol's match loaded on demand (`-p tcp --dport 80`), and the checks at the end in iptables'
// order. Like iptables, -p, -s, -d, -i, -o and -j take their value from the word that holds it, so
// `-ptcp` and `--protocol=tcp` hand "-ptcp" and "--protocol=tcp" on (and fail).
import type { Extension, MatchExtension, OptionSpec, ParseContext, TargetExtension } from "../extensions/extension.ts";
import { findMatch, findTarget } from "../extensions/registry.ts";
import { ParameterProblem, TryHelp } from "../rules/errors.ts";
import type { AddressMatch, Counters, InterfaceMatch, MatchUse, Rule, RuleTarget, Verdict } from "../rules/model.ts";
import { isTableName, type TableName } from "../rules/tables.ts";
import { parseAddressList, type AddressWithMask } from "../net/ipv4-address.ts";
import { isCSpace, parseCUnsigned, strtoumax } from "../net/c-number.ts";
import { parseProtocol, protocolName } from "../net/protocols.ts";
import { isTargetName } from "./target-names.ts";

export type CommandName =
  | "append"
  | "check"
  | "delete"
  | "insert"
  | "replace"
  | "list"
  | "list-rules"
  | "flush"
  | "zero"
  | "new-chain"
  | "delete-chain"
  | "policy"
  | "rename-chain"
  | "help"
  | "version"
  /** iptables-restore skips a line that says -6 (it is meant for ip6tables-restore). */
  | "skip";

export interface Command {
  /** The command; "list"/"list-rules" also when -Z came with it (see `zeroAfterList`). */
  readonly command: CommandName;
  /** `-L -Z` / `-S -Z`: list, then zero (the chain, or one rule with `zeroRuleNumber`). */
  readonly zeroAfterList: boolean;
  /** `-Z CHAIN N` (alone or after -L/-S): zero the counters of rule N only. */
  readonly zeroRuleNumber: boolean;
  readonly table: TableName;
  readonly chain: string | null;
  /** 1-based rule number of -D/-I/-R/-L/-S/-Z; null when not given (-I then inserts at 1). */
  readonly ruleNumber: number | null;
  /** -E's new name, -P's policy. */
  readonly argument: string | null;
  /**
   * The rules of -A/-C/-D (by spec)/-I/-R: one per source and destination address given
   * (`-s a,b -d c` makes a->c and b->c, in that order); empty for other commands.
   */
  readonly rules: readonly Rule[];
  readonly numeric: boolean;
  /** How many -v were given (0: none). */
  readonly verbose: number;
  readonly exact: boolean;
  readonly lineNumbers: boolean;
  /** `! -V` prints "Not VERSION ;-)". */
  readonly inverted: boolean;
}

/** iptables' VERSION_PROBLEM (exit 3): printed with "Perhaps iptables or your kernel needs to be upgraded." */
export class VersionProblem extends Error {
  readonly exitCode = 3;
}

export interface ParseCommandOptions {
  /**
   * A rule line of iptables-restore, which puts `-t TABLE` first: a `-t` of the line's own is then
   * refused, as are -w and -W, and -6 makes the line skipped.
   */
  readonly restore?: boolean;
  /** The program name used in messages ("iptables", "uptables", "uptables-restore"). */
  readonly program?: string;
  /** Receives what iptables prints on stderr while parsing and still goes on (warnings). */
  readonly onWarning?: (text: string) => void;
}

export function parseCommand(argv: readonly string[], options: ParseCommandOptions = {}): Command {
  return new CommandParser(argv, options).parse();
}

// ---- commands and options as iptables numbers them ----------------------------------------------

/** CMD_* bits, in the order of iptables' cmdflags ("IDDRALFZNXPESZC"). */
const CMD = {
  INSERT: 1 << 0,
  DELETE: 1 << 1,
  DELETE_NUM: 1 << 2,
  REPLACE: 1 << 3,
  APPEND: 1 << 4,
  LIST: 1 << 5,
  FLUSH: 1 << 6,
  ZERO: 1 << 7,
  NEW_CHAIN: 1 << 8,
  DELETE_CHAIN: 1 << 9,
  SET_POLICY: 1 << 10,
  RENAME_CHAIN: 1 << 11,
  LIST_RULES: 1 << 12,
  ZERO_NUM: 1 << 13,
  CHECK: 1 << 14,
} as const;
const CMD_LETTERS = "IDDRALFZNXPESZC";
const CMD_COUNT = CMD_LETTERS.length;

/** The letter of a command bit set; of several, the highest (iptables' cmd2char). */
function cmdLetter(bits: number): string {
  let i = 0;
  for (let option = bits; option > 1; option >>>= 1) i++;
  return CMD_LETTERS[i]!;
}

/** OPT_* bits, in the order of iptables' optflags ("nsdpjvxio0cf"). */
const OPT = {
  NUMERIC: 1 << 0,
  SOURCE: 1 << 1,
  DESTINATION: 1 << 2,
  PROTOCOL: 1 << 3,
  JUMP: 1 << 4,
  VERBOSE: 1 << 5,
  EXPANDED: 1 << 6,
  VIANAMEIN: 1 << 7,
  VIANAMEOUT: 1 << 8,
  LINENUMBERS: 1 << 9,
  COUNTERS: 1 << 10,
  FRAGMENT: 1 << 11,
} as const;
const OPT_LETTERS = "nsdpjvxio0cf";
/** Options that may be inverted with `!` (iptables' inverse_for_options). */
const INVERTIBLE = OPT.SOURCE | OPT.DESTINATION | OPT.PROTOCOL | OPT.VIANAMEIN | OPT.VIANAMEOUT | OPT.FRAGMENT;

function optLetter(bit: number): string {
  return OPT_LETTERS[Math.log2(bit)]!;
}

/**
 * Which options each command refuses (iptables' commands_v_options): one row per command bit,
 * one column per option in optflags order; 'x' = illegal. An option is legal when any of the
 * commands given (-L with -Z) allows it.
 */
const COMMANDS_V_OPTIONS: readonly string[] = [
  /*               nsdpjvxio0cf */
  /* INSERT     */ "x     x  x  ",
  /* DELETE     */ "x     x  xx ",
  /* DELETE_NUM */ "xxxxx xxxxxx",
  /* REPLACE    */ "x     x  x  ",
  /* APPEND     */ "x     x  x  ",
  /* LIST       */ " xxxx  xx xx",
  /* FLUSH      */ "xxxxx xxxxxx",
  /* ZERO       */ "xxxxx xxxxxx",
  /* NEW_CHAIN  */ "xxxxx xxxxxx",
  /* DEL_CHAIN  */ "xxxxx xxxxxx",
  /* SET_POLICY */ "xxxxx xxxx x",
  /* RENAME     */ "xxxxx xxxxxx",
  /* LIST_RULES */ "xxxxx xxxxxx",
  /* ZERO_NUM   */ "xxxxx xxxxxx",
  /* CHECK      */ "x     x  xx ",
];

// ---- getopt ---------------------------------------------------------------------------------------

type ArgKind = 0 | 1 | 2; // no argument, required, optional (getopt's has_arg)

interface LongOption {
  readonly name: string;
  readonly hasArg: ArgKind;
  /** A builtin option's letter, or the extension option it stands for. */
  readonly val: string | { readonly loaded: LoadedExtension; readonly spec: OptionSpec };
}

// iptables 1.8.9's original_opts, in its order.
const BUILTIN_LONG: readonly LongOption[] = [
  ["append", 1, "A"], ["delete", 1, "D"], ["check", 1, "C"], ["insert", 1, "I"], ["replace", 1, "R"],
  ["list", 2, "L"], ["list-rules", 2, "S"], ["flush", 2, "F"], ["zero", 2, "Z"], ["new-chain", 1, "N"],
  ["delete-chain", 2, "X"], ["rename-chain", 1, "E"], ["policy", 1, "P"], ["source", 1, "s"],
  ["destination", 1, "d"], ["src", 1, "s"], ["dst", 1, "d"], ["protocol", 1, "p"], ["in-interface", 1, "i"],
  ["jump", 1, "j"], ["table", 1, "t"], ["match", 1, "m"], ["numeric", 0, "n"], ["out-interface", 1, "o"],
  ["verbose", 0, "v"], ["wait", 2, "w"], ["wait-interval", 2, "W"], ["exact", 0, "x"], ["fragments", 0, "f"],
  ["version", 0, "V"], ["help", 2, "h"], ["line-numbers", 0, "0"], ["modprobe", 1, "M"],
  ["set-counters", 1, "c"], ["goto", 1, "g"], ["ipv4", 0, "4"], ["ipv6", 0, "6"],
].map(([name, hasArg, val]) => ({ name: name as string, hasArg: hasArg as ArgKind, val: val as string }));

/** iptables' short option string (OPTSTRING_COMMON plus iptables' own), as letter -> has_arg. */
const SHORT: ReadonlyMap<string, ArgKind> = (() => {
  const spec = "A:C:D:E:F::I:L::M:N:P:VX::Z::c:d:i:j:o:p:s:t:R:S::W::46fg:h::m:nvw::x";
  const map = new Map<string, ArgKind>();
  for (let i = 0; i < spec.length; i++) {
    const letter = spec[i]!;
    let kind: ArgKind = 0;
    if (spec[i + 1] === ":") {
      kind = spec[i + 2] === ":" ? 2 : 1;
      i += kind === 2 ? 2 : 1;
    }
    map.set(letter, kind);
  }
  return map;
})();

/** What one getopt_long call returned. */
type Found =
  | { readonly kind: "option"; readonly val: LongOption["val"]; readonly optarg: string | null; readonly argWord: string }
  /** A word that is no option (getopt's code 1). */
  | { readonly kind: "word"; readonly word: string }
  /** An option whose required argument is missing (getopt's ':'). */
  | { readonly kind: "missing"; readonly word: string }
  /** An unknown or ambiguous option (getopt's '?'); `letter` for a short option. */
  | { readonly kind: "unknown"; readonly word: string; readonly letter: string | null };

interface LoadedExtension {
  readonly ext: Extension;
  readonly data: unknown;
  /** Options already given, by canonical name, to refuse repeats. */
  readonly seen: Set<string>;
}

// ---- the parser -----------------------------------------------------------------------------------

class CommandParser {
  // getopt's state: the next word, and the rest of a cluster of short options ("-nvL").
  private optind = 0;
  private cluster = "";
  private clusterWord = "";

  private inverted = false;
  private command = 0;
  private options = 0;
  private invflags = 0;
  private table: string = "filter";
  private tableSet = false;
  private chain: string | null = null;
  private ruleNumber: number | null = null;
  private newName: string | null = null;
  private policy: string | null = null;
  private verbose = 0;
  private versionInverted = false;

  private sourceText: string | null = null;
  private destinationText: string | null = null;
  private inInterface: string | null = null;
  private outInterface: string | null = null;
  private protocolText: string | null = null;
  private protocol = 0;
  private protocolUsed = false;
  private counters: Counters | null = null;
  private jumpTo: string | null = null;
  private gotoSet = false;
  private target: LoadedExtension | null = null;
  private wait = false;
  private waitIntervalSet = false;

  /** Extensions in load order; their options are looked up newest first. */
  private readonly loaded: LoadedExtension[] = [];
  private readonly matches: LoadedExtension[] = [];

  constructor(
    private readonly argv: readonly string[],
    private readonly opts: ParseCommandOptions,
  ) {}

  parse(): Command {
    for (;;) {
      const before = { optind: this.optind, cluster: this.cluster, clusterWord: this.clusterWord };
      const found = this.getopt();
      if (found === null) break;
      if (found.kind === "word") {
        if (found.word === "!") {
          if (this.inverted) throw new ParameterProblem("multiple consecutive ! not allowed");
          this.inverted = true;
          continue;
        }
        throw new TryHelp(`Bad argument \`${found.word}'`);
      }
      if (found.kind === "option") {
        const val = found.val;
        if (typeof val === "string") {
          const done = this.builtinOption(val, found.optarg, found.argWord);
          if (done) return done;
        } else {
          this.extensionOption(val.loaded, val.spec, found.optarg);
        }
      } else {
        // command_default: an option nobody knows may belong to the protocol's match, loaded now.
        if (this.loadProtocolMatch()) {
          this.optind = before.optind;
          this.cluster = before.cluster;
          this.clusterWord = before.clusterWord;
          continue;
        }
        if (found.kind === "missing") throw new ParameterProblem(`option "${found.word}" requires an argument`);
        throw new ParameterProblem(`unknown option "${found.letter !== null ? `-${found.letter}` : found.word}"`);
      }
      this.inverted = false;
    }
    return this.finish();
  }

  /** One step of GNU getopt_long in RETURN_IN_ORDER mode; null at the end (or after "--"). */
  private getopt(): Found | null {
    if (this.cluster === "") {
      if (this.optind >= this.argv.length) return null;
      const word = this.argv[this.optind]!;
      if (word === "--") {
        this.optind++;
        return null;
      }
      if (!word.startsWith("-") || word === "-") {
        this.optind++;
        return { kind: "word", word };
      }
      if (word.startsWith("--")) return this.longOption(word);
      this.cluster = word.slice(1);
      this.clusterWord = word;
      this.optind++;
    }
    const letter = this.cluster[0]!;
    this.cluster = this.cluster.slice(1);
    const kind = SHORT.get(letter);
    if (kind === undefined) {
      const word = this.clusterWord;
      if (this.cluster === "") this.clusterWord = "";
      return { kind: "unknown", word, letter };
    }
    if (kind === 0) return { kind: "option", val: letter, optarg: null, argWord: this.clusterWord };
    const word = this.clusterWord;
    if (this.cluster !== "") {
      const optarg = this.cluster;
      this.cluster = "";
      return { kind: "option", val: letter, optarg, argWord: word };
    }
    if (kind === 2) return { kind: "option", val: letter, optarg: null, argWord: word };
    if (this.optind >= this.argv.length) return { kind: "missing", word };
    const optarg = this.argv[this.optind++]!;
    return { kind: "option", val: letter, optarg, argWord: optarg };
  }

  private longOption(word: string): Found {
    this.optind++;
    const eq = word.indexOf("=");
    const name = eq >= 0 ? word.slice(2, eq) : word.slice(2);
    const attached = eq >= 0 ? word.slice(eq + 1) : null;
    const option = this.lookupLong(name);
    if (option === null) return { kind: "unknown", word, letter: null };
    if (option.hasArg === 0) {
      if (attached !== null) return { kind: "unknown", word, letter: null };
      return { kind: "option", val: option.val, optarg: null, argWord: word };
    }
    if (attached !== null) return { kind: "option", val: option.val, optarg: attached, argWord: word };
    if (option.hasArg === 2) return { kind: "option", val: option.val, optarg: null, argWord: word };
    if (this.optind >= this.argv.length) return { kind: "missing", word };
    const optarg = this.argv[this.optind++]!;
    return { kind: "option", val: option.val, optarg, argWord: optarg };
  }

  /**
   * getopt_long's look-up in iptables' merged table (builtins, then the newest extension first):
   * an exact name wins, else a unique prefix; prefixes of several options are ambiguous unless
   * they all stand for the same option.
   */
  private lookupLong(name: string): LongOption | null {
    const table = this.optionTable();
    const exact = table.find((o) => o.name === name);
    if (exact) return exact;
    const prefixed = table.filter((o) => o.name.startsWith(name));
    if (prefixed.length === 0) return null;
    const first = prefixed[0]!;
    const same = (a: LongOption, b: LongOption): boolean =>
      a.hasArg === b.hasArg &&
      (typeof a.val === "string" ? a.val === b.val : typeof b.val !== "string" && a.val.spec === b.val.spec && a.val.loaded === b.val.loaded);
    return prefixed.every((o) => same(o, first)) ? first : null;
  }

  private optionTable(): LongOption[] {
    const table: LongOption[] = [...BUILTIN_LONG];
    for (let i = this.loaded.length - 1; i >= 0; i--) {
      const loaded = this.loaded[i]!;
      for (const spec of loaded.ext.options) {
        for (const name of [spec.name, ...(spec.aliases ?? [])]) {
          table.push({ name, hasArg: spec.hasArg ? 1 : 0, val: { loaded, spec } });
        }
      }
    }
    return table;
  }

  /** xs_has_arg: the next word exists and starts with neither "-" nor "!". */
  private hasArg(): boolean {
    const next = this.argv[this.optind];
    return next !== undefined && !next.startsWith("-") && !next.startsWith("!");
  }

  // ---- builtin options ---------------------------------------------------------------------------

  private addCommand(bit: number, others: number): void {
    if (this.inverted) throw new ParameterProblem("unexpected '!' flag");
    if (this.command & ~others) {
      throw new ParameterProblem(`Cannot use -${cmdLetter(bit)} with -${cmdLetter(this.command & ~others)}`);
    }
    this.command |= bit;
  }

  private setOption(bit: number): void {
    if (this.options & bit) throw new ParameterProblem(`multiple -${optLetter(bit)} flags not allowed`);
    this.options |= bit;
    if (this.inverted) {
      if (!(INVERTIBLE & bit)) throw new ParameterProblem(`cannot have ! before -${optLetter(bit)}`);
      this.invflags |= bit;
    }
  }

  /** A chain named after the command letter, then an optional rule number (iptables' -L, -S, -Z). */
  private optionalChain(optarg: string | null): void {
    if (optarg !== null) this.chain = optarg;
    else if (this.hasArg()) this.chain = this.argv[this.optind++]!;
  }

  /** Handles one builtin option; returns a finished command for -h and -V, which stop at once. */
  private builtinOption(letter: string, optarg: string | null, argWord: string): Command | null {
    switch (letter) {
      case "A":
        this.addCommand(CMD.APPEND, 0);
        this.chain = optarg;
        return null;
      case "C":
        this.addCommand(CMD.CHECK, 0);
        this.chain = optarg;
        return null;
      case "D":
        this.addCommand(CMD.DELETE, 0);
        this.chain = optarg;
        if (this.hasArg()) {
          this.ruleNumber = parseRuleNumber(this.argv[this.optind++]!);
          this.command = CMD.DELETE_NUM;
        }
        return null;
      case "R":
        this.addCommand(CMD.REPLACE, 0);
        this.chain = optarg;
        if (!this.hasArg()) throw new ParameterProblem("-R requires a rule number");
        this.ruleNumber = parseRuleNumber(this.argv[this.optind++]!);
        return null;
      case "I":
        this.addCommand(CMD.INSERT, 0);
        this.chain = optarg;
        this.ruleNumber = this.hasArg() ? parseRuleNumber(this.argv[this.optind++]!) : 1;
        return null;
      case "L":
      case "S":
        this.addCommand(letter === "L" ? CMD.LIST : CMD.LIST_RULES, CMD.ZERO | CMD.ZERO_NUM);
        this.optionalChain(optarg);
        if (this.hasArg()) this.ruleNumber = parseRuleNumber(this.argv[this.optind++]!);
        return null;
      case "F":
        this.addCommand(CMD.FLUSH, 0);
        this.optionalChain(optarg);
        return null;
      case "Z":
        this.addCommand(CMD.ZERO, CMD.LIST | CMD.LIST_RULES);
        this.optionalChain(optarg);
        if (this.hasArg()) {
          this.ruleNumber = parseRuleNumber(this.argv[this.optind++]!);
          // As iptables does: this replaces -L/-S given before (`-L -Z C N` only zeroes).
          this.command = CMD.ZERO_NUM;
        }
        return null;
      case "N":
        checkNewChainName(optarg!);
        this.addCommand(CMD.NEW_CHAIN, 0);
        this.chain = optarg;
        return null;
      case "X":
        this.addCommand(CMD.DELETE_CHAIN, 0);
        this.optionalChain(optarg);
        return null;
      case "E":
        this.addCommand(CMD.RENAME_CHAIN, 0);
        this.chain = optarg;
        if (!this.hasArg()) throw new ParameterProblem("-E requires old-chain-name and new-chain-name");
        this.newName = this.argv[this.optind++]!;
        return null;
      case "P":
        this.addCommand(CMD.SET_POLICY, 0);
        this.chain = optarg;
        if (!this.hasArg()) throw new ParameterProblem("-P requires a chain and a policy");
        this.policy = this.argv[this.optind++]!;
        return null;
      case "h":
        return this.simpleCommand("help");
      case "V":
        this.versionInverted = this.inverted;
        return this.simpleCommand("version");
      case "p": {
        this.setOption(OPT.PROTOCOL);
        // iptables lower-cases the word in place and parses it.
        const text = argWord.toLowerCase();
        const num = parseProtocol(text);
        if (num === null) throw new ParameterProblem(`unknown protocol "${text}" specified`);
        if (num === 0 && this.invflags & OPT.PROTOCOL) throw new ParameterProblem("rule would never match protocol");
        this.protocolText = text;
        this.protocol = num;
        return null;
      }
      case "s":
        this.setOption(OPT.SOURCE);
        this.sourceText = argWord;
        return null;
      case "d":
        this.setOption(OPT.DESTINATION);
        this.destinationText = argWord;
        return null;
      case "g":
        this.setOption(OPT.JUMP);
        this.gotoSet = true;
        this.jumpTo = checkTargetName(optarg!);
        return null;
      case "j":
        this.setOption(OPT.JUMP);
        this.jump(argWord);
        return null;
      case "i":
      case "o": {
        if (optarg === "") throw new ParameterProblem("Empty interface is likely to be undesired");
        this.setOption(letter === "i" ? OPT.VIANAMEIN : OPT.VIANAMEOUT);
        const name = this.parseInterface(argWord);
        if (letter === "i") this.inInterface = name;
        else this.outInterface = name;
        return null;
      }
      case "f":
        this.setOption(OPT.FRAGMENT);
        return null;
      case "v":
        if (this.verbose === 0) this.setOption(OPT.VERBOSE);
        this.verbose++;
        return null;
      case "m":
        if (this.inverted) throw new ParameterProblem("unexpected ! flag before --match");
        this.loadMatch(optarg!);
        return null;
      case "n":
        this.setOption(OPT.NUMERIC);
        return null;
      case "t":
        if (this.inverted) throw new ParameterProblem("unexpected ! flag before --table");
        if (this.opts.restore && this.tableSet) {
          throw new ParameterProblem(`The -t option cannot be used in ${this.program()}.\n`);
        }
        this.table = optarg!;
        this.tableSet = true;
        return null;
      case "x":
        this.setOption(OPT.EXPANDED);
        return null;
      case "w":
        if (this.opts.restore) throw new ParameterProblem(`You cannot use \`-w' from ${this.program()}`);
        this.parseWait(optarg);
        return null;
      case "W":
        if (this.opts.restore) throw new ParameterProblem(`You cannot use \`-W' from ${this.program()}`);
        this.parseWaitInterval(optarg);
        return null;
      case "0":
        this.setOption(OPT.LINENUMBERS);
        return null;
      case "M":
        // --modprobe: uptables loads no kernel modules.
        return null;
      case "c":
        this.setOption(OPT.COUNTERS);
        this.parseCounters(optarg!);
        return null;
      case "4":
        return null;
      case "6":
        // This is the IPv4 iptables: iptables prints only the help hint, iptables-restore skips
        // the line (whatever came before -6 on it, errors aside).
        if (this.opts.restore) return this.simpleCommand("skip");
        throw new TryHelp("");
    }
    throw new ParameterProblem(`unknown option "-${letter}"`);
  }

  private program(): string {
    return this.opts.program ?? "iptables";
  }

  private simpleCommand(name: "help" | "version" | "skip"): Command {
    return {
      command: name,
      zeroAfterList: false,
      zeroRuleNumber: false,
      table: "filter",
      chain: null,
      ruleNumber: null,
      argument: null,
      rules: [],
      numeric: false,
      verbose: 0,
      exact: false,
      lineNumbers: false,
      inverted: this.versionInverted,
    };
  }

  /** xtables_parse_interface: at most 15 characters; "/" and " " only earn a warning. */
  private parseInterface(name: string): string {
    if (name.length + 1 > IFNAMSIZ) {
      throw new ParameterProblem(`interface name \`${name}' must be shorter than IFNAMSIZ (${IFNAMSIZ - 1})`);
    }
    if (!name.endsWith("+") && (name.includes("/") || name.includes(" "))) {
      this.opts.onWarning?.(`Warning: weird character in interface \`${name}' ('/' and ' ' are not allowed by the kernel).\n`);
    }
    return name;
  }

  /** parse_wait_time: -w [seconds], the number read as sscanf("%i") does. */
  private parseWait(optarg: string | null): void {
    let text = optarg;
    if (text === null && this.hasArg()) text = this.argv[this.optind++]!;
    if (text !== null && scanCInt(text) === null) throw new ParameterProblem("wait seconds not numeric");
    this.wait = true;
  }

  /** parse_wait_interval: iptables-nft takes -W only to say it ignores it. */
  private parseWaitInterval(optarg: string | null): void {
    let text = optarg;
    if (text === null && this.hasArg()) text = this.argv[this.optind++]!;
    if (text === null) throw new ParameterProblem("wait interval value required");
    const usec = scanCUnsigned(text);
    if (usec === null) throw new ParameterProblem("wait interval not numeric");
    const value = Number(BigInt.asUintN(32, usec));
    if (value > 999999) throw new ParameterProblem(`too long usec wait ${value} > 999999 usec`);
    this.opts.onWarning?.("Ignoring deprecated --wait-interval option.\n");
    this.waitIntervalSet = true;
  }

  /** -c PACKETS BYTES (or -c PACKETS,BYTES), read as sscanf("%llu") does. */
  private parseCounters(packetsText: string): void {
    let bytesText: string | null = null;
    const comma = packetsText.indexOf(",", 1);
    if (comma >= 0) bytesText = packetsText.slice(comma + 1);
    if (bytesText === null && this.hasArg()) bytesText = this.argv[this.optind++]!;
    if (bytesText === null) throw new ParameterProblem("-c requires packet and byte counter");
    const packets = scanCUnsigned(packetsText);
    if (packets === null) throw new ParameterProblem("-c packet counter not numeric");
    const bytes = scanCUnsigned(bytesText);
    if (bytes === null) throw new ParameterProblem("-c byte counter not numeric");
    this.counters = { packets: counterValue(packets, "packet"), bytes: counterValue(bytes, "byte") };
  }

  // ---- extensions --------------------------------------------------------------------------------

  private loadMatch(name: string): LoadedExtension {
    const ext = findMatch(name);
    if (!ext) throw new ParameterProblem(`Couldn't load match \`${name}':No such file or directory\n`);
    const loaded: LoadedExtension = { ext, data: ext.init(), seen: new Set() };
    this.loaded.push(loaded);
    this.matches.push(loaded);
    return loaded;
  }

  /**
   * iptables' load_proto: the first time an option is unknown and -p was given, the protocol's
   * match (tcp for `-p tcp` or `-p 6`) is loaded and the option tried again.
   */
  private loadProtocolMatch(): boolean {
    if (this.protocolText === null || this.protocolUsed) return false;
    this.protocolUsed = true;
    let name: string | null = this.protocolText;
    const num = parseCUnsigned(this.protocolText, 0, 255);
    if (num !== null) name = num === 0 ? null : protocolName(num);
    if (name === null) return false;
    const ext = findMatch(name);
    if (!ext) return false;
    this.loadMatch(name);
    return true;
  }

  /** command_jump: a verdict, a target extension (its options become known), or a chain. */
  private jump(name: string): void {
    this.jumpTo = checkTargetName(name);
    if (isVerdict(name) || name === "") return;
    const ext = findTarget(name);
    if (ext) {
      const loaded: LoadedExtension = { ext, data: ext.init(), seen: new Set() };
      this.loaded.push(loaded);
      this.target = loaded;
      return;
    }
    if (isTargetName(name)) {
      throw new ParameterProblem(`target \`${name}' is not supported by uptables`);
    }
  }

  private extensionOption(loaded: LoadedExtension, spec: OptionSpec, optarg: string | null): void {
    // xtables_option_parse's order: a repeat is refused before a `!` that may not be there.
    if (!spec.repeatable && loaded.seen.has(spec.name)) {
      throw new ParameterProblem(`${loaded.ext.name}: option "--${spec.name}" can only be used once.\n`);
    }
    if (this.inverted && !spec.invertible) {
      throw new ParameterProblem(`${loaded.ext.name}: option "--${spec.name}" cannot be inverted.\n`);
    }
    loaded.seen.add(spec.name);
    const ctx: ParseContext = {
      table: this.tableName(),
      protocol: this.protocol,
      protocolInverted: (this.invflags & OPT.PROTOCOL) !== 0,
      takeExtraArgument: () => {
        const next = this.argv[this.optind];
        if (next === undefined || next.startsWith("-") || next === "!") return undefined;
        this.optind++;
        return next;
      },
      warn: (text) => this.warn(text),
    };
    loaded.ext.parse(loaded.data, spec.name, optarg ?? undefined, this.inverted, ctx);
  }

  private warn(text: string): void {
    this.opts.onWarning?.(text);
  }

  /** The table for extensions to see while parsing (they may check it). */
  private tableName(): TableName {
    return isTableName(this.table) ? this.table : "filter";
  }

  // ---- the end -------------------------------------------------------------------------------------

  private finish(): Command {
    if (this.table === "nat" && (this.policy === "DROP" || this.jumpTo === "DROP")) {
      throw new ParameterProblem('\nThe "nat" table is not intended for filtering, the use of DROP is therefore inhibited.\n\n');
    }
    if (!this.wait && this.waitIntervalSet) throw new ParameterProblem("--wait-interval only makes sense with --wait\n");

    const ruleCtx = {
      table: this.tableName(),
      protocol: this.protocol,
      protocolInverted: (this.invflags & OPT.PROTOCOL) !== 0,
      warn: (text: string) => this.warn(text),
    };
    for (const use of this.matches) use.ext.finalCheck?.(use.data, ruleCtx);
    if (this.target) this.target.ext.finalCheck?.(this.target.data, ruleCtx);

    if (this.optind < this.argv.length) throw new ParameterProblem("unknown arguments found on commandline");
    if (this.command === 0) throw new ParameterProblem("no command specified");
    if (this.inverted) throw new ParameterProblem("nothing appropriate following !");

    // post_parse: the addresses, "0.0.0.0/0" when a rule command gave none.
    const ruleCommand = (this.command & (CMD.REPLACE | CMD.INSERT | CMD.DELETE | CMD.APPEND | CMD.CHECK)) !== 0;
    const sourceText = this.sourceText ?? (ruleCommand ? "0.0.0.0/0" : null);
    const destinationText = this.destinationText ?? (ruleCommand ? "0.0.0.0/0" : null);
    const sources = sourceText === null ? [] : parseAddressList(sourceText);
    const destinations = destinationText === null ? [] : parseAddressList(destinationText);
    if ((sources.length > 1 || destinations.length > 1) && this.invflags & (OPT.SOURCE | OPT.DESTINATION)) {
      throw new ParameterProblem("! not allowed with multiple source or destination IP addresses");
    }
    if (this.command === CMD.REPLACE && (sources.length !== 1 || destinations.length !== 1)) {
      throw new ParameterProblem("Replacement rule does not specify a unique address");
    }

    this.checkIllegalOptions();
    if (this.chain !== null && this.chain.length >= MAX_CHAIN_NAME + 1) {
      throw new ParameterProblem(`chain name \`${this.chain}' too long (must be under ${MAX_CHAIN_NAME + 1} chars)`);
    }
    const chainChecked = CMD.APPEND | CMD.DELETE | CMD.DELETE_NUM | CMD.CHECK | CMD.INSERT | CMD.REPLACE;
    if (this.command & chainChecked && this.chain !== null) {
      if ((this.chain === "PREROUTING" || this.chain === "INPUT") && this.options & OPT.VIANAMEOUT) {
        throw new ParameterProblem(`Can't use -o with ${this.chain}\n`);
      }
      if ((this.chain === "POSTROUTING" || this.chain === "OUTPUT") && this.options & OPT.VIANAMEIN) {
        throw new ParameterProblem(`Can't use -i with ${this.chain}\n`);
      }
    }
    // do_commandx: only now is the table looked up.
    if (!isTableName(this.table)) {
      throw new VersionProblem(`table '${this.table}' does not exist\nPerhaps iptables or your kernel needs to be upgraded.`);
    }
    const table: TableName = this.table;

    const rules: Rule[] = [];
    if (ruleCommand) {
      for (const source of sources) for (const destination of destinations) rules.push(this.buildRule(source, destination));
    }
    return {
      command: this.commandName(),
      zeroAfterList: (this.command & (CMD.LIST | CMD.LIST_RULES)) !== 0 && (this.command & (CMD.ZERO | CMD.ZERO_NUM)) !== 0,
      zeroRuleNumber: (this.command & CMD.ZERO_NUM) !== 0,
      table,
      chain: this.chain,
      ruleNumber: this.command & (CMD.ZERO | CMD.LIST | CMD.LIST_RULES | CMD.ZERO_NUM | CMD.INSERT | CMD.REPLACE | CMD.DELETE_NUM) ? this.ruleNumber : null,
      argument: this.newName ?? this.policy,
      rules,
      numeric: (this.options & OPT.NUMERIC) !== 0,
      verbose: this.verbose,
      exact: (this.options & OPT.EXPANDED) !== 0,
      lineNumbers: (this.options & OPT.LINENUMBERS) !== 0,
      inverted: false,
    };
  }

  private commandName(): CommandName {
    const c = this.command;
    if (c & CMD.LIST) return "list";
    if (c & CMD.LIST_RULES) return "list-rules";
    if (c & (CMD.ZERO | CMD.ZERO_NUM)) return "zero";
    if (c & CMD.APPEND) return "append";
    if (c & CMD.CHECK) return "check";
    if (c & (CMD.DELETE | CMD.DELETE_NUM)) return "delete";
    if (c & CMD.INSERT) return "insert";
    if (c & CMD.REPLACE) return "replace";
    if (c & CMD.FLUSH) return "flush";
    if (c & CMD.NEW_CHAIN) return "new-chain";
    if (c & CMD.DELETE_CHAIN) return "delete-chain";
    if (c & CMD.SET_POLICY) return "policy";
    return "rename-chain";
  }

  /** generic_opt_check: an option is illegal when every command given refuses it. */
  private checkIllegalOptions(): void {
    for (let i = 0; i < OPT_LETTERS.length; i++) {
      if (!(this.options & (1 << i))) continue;
      let legal = 0;
      for (let j = 0; j < CMD_COUNT; j++) {
        if (!(this.command & (1 << j))) continue;
        if (COMMANDS_V_OPTIONS[j]![i] !== "x") legal = 1;
        else if (legal === 0) legal = -1;
      }
      if (legal === -1) throw new ParameterProblem(`Illegal option \`-${OPT_LETTERS[i]}' with this command`);
    }
  }

  private buildRule(source: AddressWithMask, destination: AddressWithMask): Rule {
    const protocolInverted = (this.invflags & OPT.PROTOCOL) !== 0;
    const matches: MatchUse[] = [];
    for (const use of this.matches) {
      const ext = use.ext as MatchExtension;
      if (ext.requiredProtocol !== undefined && (this.protocol !== ext.requiredProtocol || protocolInverted)) {
        throw new ParameterProblem(ext.requiresProtocolMessage ?? `${ext.name} match requires '-p ${ext.name}'`);
      }
      matches.push({ ext, data: use.data });
    }
    let target: RuleTarget = { kind: "none" };
    const jumpTo = this.jumpTo;
    if (jumpTo !== null && jumpTo !== "") {
      if (this.gotoSet) target = { kind: "goto", chain: jumpTo };
      else if (this.target) target = { kind: "extension", ext: this.target.ext as TargetExtension, data: this.target.data };
      else if (isVerdict(jumpTo)) target = { kind: "verdict", verdict: jumpTo };
      else target = { kind: "jump", chain: jumpTo };
    }
    return {
      source: addressMatch(source, (this.invflags & OPT.SOURCE) !== 0),
      destination: addressMatch(destination, (this.invflags & OPT.DESTINATION) !== 0),
      inInterface: interfaceMatch(this.inInterface, (this.invflags & OPT.VIANAMEIN) !== 0),
      outInterface: interfaceMatch(this.outInterface, (this.invflags & OPT.VIANAMEOUT) !== 0),
      protocol: this.protocol,
      protocolInverted,
      fragment: this.options & OPT.FRAGMENT ? { inverted: (this.invflags & OPT.FRAGMENT) !== 0 } : null,
      matches,
      target,
      counters: this.counters ? { ...this.counters } : { packets: 0, bytes: 0 },
    };
  }
}

/** XT_EXTENSION_MAXNAMELEN - 1: chain and target names are at most 28 characters. */
export const MAX_CHAIN_NAME = 28;
const IFNAMSIZ = 16;

function isVerdict(name: string): name is Verdict {
  return name === "ACCEPT" || name === "DROP" || name === "RETURN";
}

/** An address the rule does not test (0.0.0.0/0, not inverted) is stored as none. */
function addressMatch(a: AddressWithMask, inverted: boolean): AddressMatch | null {
  if (a.mask === 0 && a.addr === 0 && !inverted) return null;
  return { addr: a.addr, mask: a.mask, inverted };
}

/** "+" alone is every interface: iptables stores no interface test for it (unless inverted). */
function interfaceMatch(name: string | null, inverted: boolean): InterfaceMatch | null {
  if (name === null || name === "" || (name === "+" && !inverted)) return null;
  return { name, inverted };
}

/** xt_parse_target: what -j and -g accept as a name. */
function checkTargetName(name: string): string {
  if (name.length < 1) throw new ParameterProblem("Invalid target name (too short)");
  if (name.length > MAX_CHAIN_NAME) {
    throw new ParameterProblem(`Invalid target name \`${name}' (${MAX_CHAIN_NAME} chars max)`);
  }
  for (const ch of name) if (isCSpace(ch)) throw new ParameterProblem(`Invalid target name \`${name}'`);
  return name;
}

/** parse_chain: the checks iptables makes on -N's name before it asks the kernel. */
export function checkNewChainName(name: string): void {
  if (name.length > MAX_CHAIN_NAME) {
    throw new ParameterProblem(`chain name \`${name}' too long (must be under ${MAX_CHAIN_NAME + 1} chars)`);
  }
  if (name.startsWith("-") || name.startsWith("!")) {
    throw new ParameterProblem(`chain name not allowed to start with \`${name[0]}'`);
  }
  if (isTargetName(name)) throw new ParameterProblem("chain name may not clash with target name");
  for (const ch of name) if (isCSpace(ch)) throw new ParameterProblem(`Invalid chain name \`${name}'`);
}

/** parse_rulenumber: 1 to INT_MAX, as strtoul reads it in base 0. */
function parseRuleNumber(text: string): number {
  const value = parseCUnsigned(text, 1, 0x7fffffff);
  if (value === null) throw new ParameterProblem(`Invalid rule number \`${text}'`);
  return value;
}

/** sscanf("%llu"): blanks, a sign and digits at the start; null when no digit. */
function scanCUnsigned(text: string): bigint | null {
  const parsed = strtoumax(text, 10);
  return parsed === null ? null : parsed.value;
}

/** sscanf("%i"): a C int in base 0; null when none. */
function scanCInt(text: string): number | null {
  const parsed = strtoumax(text, 0);
  return parsed === null ? null : Number(BigInt.asIntN(32, parsed.value));
}

/** uptables keeps counters as JavaScript numbers: exact up to 2^53-1. */
export function counterValue(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new ParameterProblem(`-c ${what} counter ${value} is beyond what uptables counts (${Number.MAX_SAFE_INTEGER})`);
  }
  return Number(value);
}
