// The iptables(8) command line: which command, which table and chain, and the rule it carries.
// Parsing follows iptables' own loop (xshared.c do_parse): options in any order, `!` before the
// option it inverts, long options by unambiguous prefix, extension options dispatched to the most
// recently loaded extension that knows them, and the protocol's match loaded implicitly.
import type { Extension, MatchExtension, OptionSpec, ParseContext, TargetExtension } from "../extensions/extension.ts";
import { findMatch, findTarget } from "../extensions/registry.ts";
import { ParameterProblem } from "../rules/errors.ts";
import type { AddressMatch, Counters, InterfaceMatch, MatchUse, Rule, RuleTarget, Verdict } from "../rules/model.ts";
import { isTableName, type TableName } from "../rules/tables.ts";
import { parseAddressWithMask } from "../net/ipv4-address.ts";
import { parseProtocol, protocolName } from "../net/protocols.ts";

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
  | "version";

export interface Command {
  readonly command: CommandName;
  /** `-L -Z`: list, then zero. */
  readonly zeroAfterList: boolean;
  readonly table: TableName;
  readonly chain: string | null;
  /** 1-based rule number of -D/-I/-R/-L/-S/-Z; null when not given. */
  readonly ruleNumber: number | null;
  /** -E's new name, -P's policy. */
  readonly argument: string | null;
  /** The rule of -A/-C/-D (by spec)/-I/-R. */
  readonly rule: Rule | null;
  readonly numeric: boolean;
  readonly verbose: boolean;
  readonly exact: boolean;
  readonly lineNumbers: boolean;
}

export class VersionProblem extends Error {
  readonly exitCode = 3;
}

interface BuiltinOption {
  readonly long: readonly string[];
  readonly short: string | null;
  /** "none", "required", or "optional" (taken from the next word when it does not start with - or !). */
  readonly arg: "none" | "required" | "optional";
  readonly id: string;
}

// The main options of iptables, in the order of its getopt table (long names first, then aliases).
const BUILTIN_OPTIONS: readonly BuiltinOption[] = [
  { id: "A", long: ["append"], short: "A", arg: "required" },
  { id: "D", long: ["delete"], short: "D", arg: "required" },
  { id: "C", long: ["check"], short: "C", arg: "required" },
  { id: "I", long: ["insert"], short: "I", arg: "required" },
  { id: "R", long: ["replace"], short: "R", arg: "required" },
  { id: "L", long: ["list"], short: "L", arg: "optional" },
  { id: "S", long: ["list-rules"], short: "S", arg: "optional" },
  { id: "F", long: ["flush"], short: "F", arg: "optional" },
  { id: "Z", long: ["zero"], short: "Z", arg: "optional" },
  { id: "N", long: ["new-chain", "new"], short: "N", arg: "required" },
  { id: "X", long: ["delete-chain"], short: "X", arg: "optional" },
  { id: "E", long: ["rename-chain"], short: "E", arg: "required" },
  { id: "P", long: ["policy"], short: "P", arg: "required" },
  { id: "s", long: ["source", "src"], short: "s", arg: "required" },
  { id: "d", long: ["destination", "dst"], short: "d", arg: "required" },
  { id: "p", long: ["protocol"], short: "p", arg: "required" },
  { id: "i", long: ["in-interface"], short: "i", arg: "required" },
  { id: "j", long: ["jump"], short: "j", arg: "required" },
  { id: "t", long: ["table"], short: "t", arg: "required" },
  { id: "v", long: ["verbose"], short: "v", arg: "none" },
  { id: "w", long: ["wait"], short: "w", arg: "optional" },
  { id: "W", long: ["wait-interval"], short: "W", arg: "optional" },
  { id: "x", long: ["exact"], short: "x", arg: "none" },
  { id: "f", long: ["fragments", "fragment"], short: "f", arg: "none" },
  { id: "h", long: ["help"], short: "h", arg: "optional" },
  { id: "o", long: ["out-interface"], short: "o", arg: "required" },
  { id: "m", long: ["match"], short: "m", arg: "required" },
  { id: "n", long: ["numeric"], short: "n", arg: "none" },
  { id: "line", long: ["line-numbers"], short: null, arg: "none" },
  { id: "V", long: ["version"], short: "V", arg: "none" },
  { id: "g", long: ["goto"], short: "g", arg: "required" },
  { id: "c", long: ["set-counters"], short: "c", arg: "required" },
  { id: "modprobe", long: ["modprobe"], short: null, arg: "required" },
  { id: "4", long: ["ipv4"], short: "4", arg: "none" },
  { id: "6", long: ["ipv6"], short: "6", arg: "none" },
  { id: "M", long: [], short: "M", arg: "required" },
];

const COMMAND_OF: Record<string, CommandName> = {
  A: "append",
  D: "delete",
  C: "check",
  I: "insert",
  R: "replace",
  L: "list",
  S: "list-rules",
  F: "flush",
  Z: "zero",
  N: "new-chain",
  X: "delete-chain",
  E: "rename-chain",
  P: "policy",
  h: "help",
  V: "version",
};

// Which options each command refuses (iptables' commands_v_options); "0" stands for --line-numbers.
// An option is legal when any of the given commands (-L with -Z) allows it.
const ILLEGAL_OPTIONS: Record<CommandName | "delete-number", string> = {
  insert: "nx0",
  delete: "nx0c",
  "delete-number": "nsdpjxio0cf",
  replace: "nx0",
  append: "nx0",
  check: "nx0c",
  list: "sdpjiocf",
  "list-rules": "nsdpjxio0cf",
  flush: "nsdpjxio0cf",
  zero: "nsdpjxio0cf",
  "new-chain": "nsdpjxio0cf",
  "delete-chain": "nsdpjxio0cf",
  policy: "nsdpjxio0f",
  "rename-chain": "nsdpjxio0cf",
  help: "",
  version: "",
};

/** The letter iptables names an option by in "Illegal option `-X' with this command". */
const OPTION_LETTER: Record<string, string> = { line: "0" };

export interface ParseCommandOptions {
  /** iptables-restore's current table (`*nat`): `-t` is then refused. */
  readonly restoreTable?: TableName;
  /** The program name used in messages ("iptables", "uptables"). */
  readonly program?: string;
}

interface LoadedExtension {
  readonly ext: Extension;
  readonly data: unknown;
  /** Options already given, by canonical name, to refuse repeats. */
  readonly seen: Set<string>;
}

/** What getopt found: a builtin option or an extension's. */
type FoundOption =
  | { readonly kind: "builtin"; readonly option: BuiltinOption; readonly spelled: string }
  | { readonly kind: "extension"; readonly loaded: LoadedExtension; readonly spec: OptionSpec; readonly spelled: string };

export function parseCommand(argv: readonly string[], options: ParseCommandOptions = {}): Command {
  return new CommandParser(argv, options).parse();
}

class CommandParser {
  private pos = 0;
  private inverted = false;

  private command: CommandName | null = null;
  private commandLetter = "";
  private zeroAfterList = false;
  private table: TableName = "filter";
  private tableGiven = false;
  private chain: string | null = null;
  private ruleNumber: number | null = null;
  private argument: string | null = null;

  private source: AddressMatch | null = null;
  private destination: AddressMatch | null = null;
  private inInterface: InterfaceMatch | null = null;
  private outInterface: InterfaceMatch | null = null;
  private protocol = 0;
  private protocolGiven = false;
  private protocolInverted = false;
  private protocolMatchLoaded = false;
  private fragment: { inverted: boolean } | null = null;
  private counters: Counters | null = null;
  private targetName: string | null = null;
  private targetIsGoto = false;
  private targetExt: LoadedExtension | null = null;

  /** Extensions in load order (matches and target); the newest wins option look-ups. */
  private readonly loaded: LoadedExtension[] = [];
  private readonly matchUses: LoadedExtension[] = [];
  private readonly usedOptions = new Set<string>();
  private readonly flags = { numeric: false, verbose: false, exact: false, lineNumbers: false };

  constructor(
    private readonly argv: readonly string[],
    private readonly opts: ParseCommandOptions,
  ) {
    if (opts.restoreTable) this.table = opts.restoreTable;
  }

  parse(): Command {
    while (this.pos < this.argv.length) {
      const word = this.argv[this.pos++]!;
      if (word === "!") {
        if (this.inverted) throw new ParameterProblem("multiple consecutive ! not allowed");
        this.inverted = true;
        continue;
      }
      if (word.startsWith("--") && word.length > 2) {
        this.longOption(word);
      } else if (word.startsWith("-") && word.length > 1) {
        this.shortOptions(word);
      } else {
        throw new ParameterProblem(`Bad argument \`${word}'`);
      }
    }
    if (this.inverted) throw new ParameterProblem("nothing appropriate following !");
    return this.finish();
  }

  // ---- getopt ------------------------------------------------------------------------------

  private longOption(word: string): void {
    const eq = word.indexOf("=");
    const name = eq >= 0 ? word.slice(2, eq) : word.slice(2);
    const attached = eq >= 0 ? word.slice(eq + 1) : undefined;
    let found = this.lookupLong(name);
    if (!found && this.tryLoadProtocolMatch()) found = this.lookupLong(name);
    if (!found) throw new ParameterProblem(`unknown option "${word}"`);
    this.dispatch(found, attached, word);
  }

  private shortOptions(word: string): void {
    for (let i = 1; i < word.length; i++) {
      const letter = word[i]!;
      const option = BUILTIN_OPTIONS.find((o) => o.short === letter);
      if (!option) throw new ParameterProblem(`unknown option "-${letter}"`);
      const rest = word.slice(i + 1);
      if (option.arg !== "none" && rest.length > 0) {
        this.dispatch({ kind: "builtin", option, spelled: `-${letter}` }, rest, `-${letter}`);
        return;
      }
      this.dispatch({ kind: "builtin", option, spelled: `-${letter}` }, undefined, `-${letter}`);
    }
  }

  /** getopt_long's look-up: an exact name wins, else a prefix shared by one option only. */
  private lookupLong(name: string): FoundOption | null {
    const candidates = this.optionTable();
    const exact = candidates.find((c) => c.names.includes(name));
    if (exact) return exact.found(name);
    const prefixed = candidates.filter((c) => c.names.some((n) => n.startsWith(name)));
    if (prefixed.length === 0) return null;
    const first = prefixed[0]!;
    if (prefixed.every((c) => c.identity === first.identity)) {
      return first.found(first.names.find((n) => n.startsWith(name))!);
    }
    return null;
  }

  /** The merged option table: builtins, then the newest extension first (xtables_merge_options). */
  private optionTable(): { names: readonly string[]; identity: unknown; found: (spelled: string) => FoundOption }[] {
    const table: { names: readonly string[]; identity: unknown; found: (spelled: string) => FoundOption }[] = [];
    for (const option of BUILTIN_OPTIONS) {
      if (option.long.length === 0) continue;
      table.push({ names: option.long, identity: option, found: (spelled) => ({ kind: "builtin", option, spelled: `--${spelled}` }) });
    }
    for (let i = this.loaded.length - 1; i >= 0; i--) {
      const loaded = this.loaded[i]!;
      for (const spec of loaded.ext.options) {
        table.push({
          names: [spec.name, ...(spec.aliases ?? [])],
          identity: spec,
          found: (spelled) => ({ kind: "extension", loaded, spec, spelled: `--${spelled}` }),
        });
      }
    }
    return table;
  }

  private nextWord(): string | undefined {
    return this.pos < this.argv.length ? this.argv[this.pos] : undefined;
  }

  /** The next word when it can be an optional argument (iptables: does not start with - or !). */
  private optionalNextWord(): string | undefined {
    const next = this.nextWord();
    if (next !== undefined && !next.startsWith("-") && !next.startsWith("!")) {
      this.pos++;
      return next;
    }
    return undefined;
  }

  private requiredArgument(attached: string | undefined, spelled: string): string {
    if (attached !== undefined) return attached;
    const next = this.nextWord();
    if (next === undefined) throw new ParameterProblem(`option "${spelled}" requires an argument`);
    this.pos++;
    return next;
  }

  // ---- options -------------------------------------------------------------------------------

  private dispatch(found: FoundOption, attached: string | undefined, spelled: string): void {
    if (found.kind === "extension") {
      this.extensionOption(found, attached);
      return;
    }
    const option = found.option;
    const needsArg = option.arg === "required";
    const arg = needsArg ? this.requiredArgument(attached, spelled) : attached;
    const inverted = this.takeInversion();
    const id = option.id;
    if (id in COMMAND_OF) {
      if (inverted) throw new ParameterProblem(`unexpected ! flag before --${option.long[0]}`);
      this.setCommand(id, arg);
      return;
    }
    switch (id) {
      case "s":
      case "d": {
        this.markOption(id, inverted);
        const parsed = parseAddressWithMask(arg!);
        if (parsed === "host") throw new ParameterProblem(`host/network \`${arg!.split("/")[0]}' not found`);
        if (parsed === "mask") throw new ParameterProblem(`invalid mask \`${arg!.slice(arg!.indexOf("/") + 1)}' specified`);
        const match = { addr: parsed.addr, mask: parsed.mask, inverted };
        if (id === "s") this.source = match;
        else this.destination = match;
        return;
      }
      case "p": {
        this.markOption(id, inverted);
        const num = parseProtocol(arg!);
        if (num === null) throw new ParameterProblem(`unknown protocol "${arg}" specified`);
        if (num === 0 && inverted) throw new ParameterProblem("rule would never match protocol");
        this.protocol = num;
        this.protocolGiven = true;
        this.protocolInverted = inverted;
        return;
      }
      case "i":
      case "o": {
        this.markOption(id, inverted);
        const iface = parseInterface(arg!);
        // "+" alone is every interface: iptables stores no interface match for it.
        const match = iface === "+" && !inverted ? null : { name: iface, inverted };
        if (id === "i") this.inInterface = match;
        else this.outInterface = match;
        return;
      }
      case "f":
        this.markOption(id, inverted);
        this.fragment = { inverted };
        return;
      case "j":
      case "g":
        this.refuseInversion(inverted, spelled);
        this.markOption("j", false);
        this.setTarget(arg!, id === "g");
        return;
      case "m":
        this.refuseInversion(inverted, spelled);
        this.loadMatch(arg!);
        return;
      case "t":
        this.refuseInversion(inverted, spelled);
        if (this.opts.restoreTable) throw new ParameterProblem("The -t option (seen in line %u) cannot be used in iptables-restore.");
        if (this.tableGiven) throw new ParameterProblem("multiple -t flags not allowed");
        if (!isTableName(arg!)) throw new VersionProblem(`table '${arg}' does not exist\nPerhaps iptables or your kernel needs to be upgraded.`);
        this.table = arg!;
        this.tableGiven = true;
        return;
      case "c": {
        this.refuseInversion(inverted, spelled);
        this.markOption("c", false);
        const bytes = this.nextWord();
        if (bytes === undefined || bytes.startsWith("-") || bytes.startsWith("!")) {
          throw new ParameterProblem("-c requires packet and byte counter");
        }
        this.pos++;
        this.counters = { packets: parseCounter(arg!, "packet"), bytes: parseCounter(bytes, "byte") };
        return;
      }
      case "v":
        this.flags.verbose = true;
        return;
      case "x":
        this.markOption("x", false);
        this.flags.exact = true;
        return;
      case "n":
        this.markOption("n", false);
        this.flags.numeric = true;
        return;
      case "line":
        this.markOption("line", false);
        this.flags.lineNumbers = true;
        return;
      case "w":
      case "W": {
        // Accepted for compatibility; uptables serialises writers with its own lock.
        const value = attached ?? this.optionalNextWord();
        if (value !== undefined && !/^[0-9]+(\.[0-9]+)?$/.test(value)) {
          throw new ParameterProblem(`wait seconds not numeric`);
        }
        return;
      }
      case "modprobe":
      case "4":
        return;
      case "6":
        throw new ParameterProblem("This is the IPv4 version of iptables.");
      case "M":
        return;
      default:
        throw new ParameterProblem(`unknown option "${spelled}"`);
    }
  }

  private takeInversion(): boolean {
    const inverted = this.inverted;
    this.inverted = false;
    return inverted;
  }

  private refuseInversion(inverted: boolean, spelled: string): void {
    if (inverted) throw new ParameterProblem(`cannot have ! before ${spelled}`);
  }

  private markOption(id: string, _inverted: boolean): void {
    if (id !== "c" && this.usedOptions.has(id)) {
      const letter = id === "line" ? "--line-numbers" : `-${id}`;
      throw new ParameterProblem(`multiple ${letter} flags not allowed`);
    }
    this.usedOptions.add(id);
  }

  private setCommand(letter: string, arg: string | undefined): void {
    const name = COMMAND_OF[letter]!;
    if (this.command !== null) {
      const combinable =
        (this.command === "list" && name === "zero") ||
        (this.command === "zero" && name === "list") ||
        (this.command === "list-rules" && name === "zero") ||
        (this.command === "zero" && name === "list-rules");
      if (!combinable) throw new ParameterProblem(`Cannot use -${letter} with -${this.commandLetter}`);
      if (name === "zero") {
        this.zeroAfterList = true;
        if (arg !== undefined || this.optionalChainAhead()) {
          this.chain = arg ?? this.optionalNextWord() ?? null;
        }
        return;
      }
      this.zeroAfterList = true;
      this.command = name;
      this.commandLetter = letter;
      this.takeChainAndNumber(letter, arg);
      return;
    }
    this.command = name;
    this.commandLetter = letter;
    this.takeChainAndNumber(letter, arg);
  }

  private optionalChainAhead(): boolean {
    const next = this.nextWord();
    return next !== undefined && !next.startsWith("-") && !next.startsWith("!");
  }

  private takeChainAndNumber(letter: string, arg: string | undefined): void {
    switch (letter) {
      case "A":
      case "C":
      case "N":
        this.chain = arg!;
        return;
      case "D":
      case "I": {
        this.chain = arg!;
        const next = this.optionalNextWord();
        if (next !== undefined) this.ruleNumber = parseRuleNumber(next);
        else if (letter === "I") this.ruleNumber = null;
        return;
      }
      case "R": {
        this.chain = arg!;
        const next = this.optionalNextWord();
        if (next === undefined) throw new ParameterProblem("-R requires a rule number");
        this.ruleNumber = parseRuleNumber(next);
        return;
      }
      case "L":
      case "S":
      case "Z": {
        this.chain = arg ?? this.optionalNextWord() ?? null;
        if (this.chain !== null) {
          const next = this.optionalNextWord();
          if (next !== undefined) this.ruleNumber = parseRuleNumber(next);
        }
        return;
      }
      case "F":
      case "X":
        this.chain = arg ?? this.optionalNextWord() ?? null;
        return;
      case "E": {
        this.chain = arg!;
        const next = this.optionalNextWord();
        if (next === undefined) throw new ParameterProblem("-E requires old-chain-name and new-chain-name");
        this.argument = next;
        return;
      }
      case "P": {
        this.chain = arg!;
        const next = this.optionalNextWord();
        if (next === undefined) throw new ParameterProblem("-P requires a chain and a policy");
        this.argument = next;
        return;
      }
      case "h":
      case "V":
        return;
    }
  }

  // ---- extensions ----------------------------------------------------------------------------

  private loadMatch(name: string): void {
    const ext = findMatch(name);
    if (!ext) throw new ParameterProblem(`Couldn't load match \`${name}':No such file or directory\n`);
    const loaded: LoadedExtension = { ext, data: ext.init(), seen: new Set() };
    this.loaded.push(loaded);
    this.matchUses.push(loaded);
    if (this.protocolGiven && protocolName(this.protocol) === name) this.protocolMatchLoaded = true;
  }

  /** iptables loads `-m tcp` by itself when `-p tcp` came first and an option is unknown. */
  private tryLoadProtocolMatch(): boolean {
    if (!this.protocolGiven || this.protocolMatchLoaded) return false;
    const name = protocolName(this.protocol);
    if (name === null) return false;
    const ext = findMatch(name);
    if (!ext) return false;
    this.loadMatch(name);
    this.protocolMatchLoaded = true;
    return true;
  }

  private setTarget(name: string, isGoto: boolean): void {
    if (this.targetName !== null) throw new ParameterProblem("multiple -j flags not allowed");
    if (name === "") throw new ParameterProblem("Invalid target name (empty)");
    this.targetName = name;
    this.targetIsGoto = isGoto;
    if (isGoto) return;
    const ext = findTarget(name);
    if (ext) {
      const loaded: LoadedExtension = { ext, data: ext.init(), seen: new Set() };
      this.loaded.push(loaded);
      this.targetExt = loaded;
    }
  }

  private extensionOption(found: Extract<FoundOption, { kind: "extension" }>, attached: string | undefined): void {
    const { loaded, spec, spelled } = found;
    let arg: string | undefined;
    if (spec.hasArg) arg = this.requiredArgument(attached, spelled);
    else if (attached !== undefined) throw new ParameterProblem(`option '${spelled}' doesn't allow an argument`);
    const inverted = this.takeInversion();
    if (inverted && !spec.invertible) {
      throw new ParameterProblem(`${loaded.ext.name}: option "--${spec.name}" cannot be inverted.\n`);
    }
    if (!spec.repeatable && loaded.seen.has(spec.name)) {
      throw new ParameterProblem(`${loaded.ext.name}: option "--${spec.name}" can only be used once.\n`);
    }
    loaded.seen.add(spec.name);
    const ctx: ParseContext = {
      table: this.table,
      protocol: this.protocol,
      protocolInverted: this.protocolInverted,
      takeExtraArgument: () => {
        const next = this.nextWord();
        if (next === undefined || next.startsWith("-") || next === "!") return undefined;
        this.pos++;
        return next;
      },
    };
    loaded.ext.parse(loaded.data, spec.name, arg, inverted, ctx);
  }

  // ---- the end -------------------------------------------------------------------------------

  private finish(): Command {
    if (this.command === null) {
      if (this.usedOptions.size > 0 || this.targetName !== null) throw new ParameterProblem("no command specified");
      throw new ParameterProblem("no command specified");
    }
    const command = this.command;
    const given: (CommandName | "delete-number")[] = [command === "delete" && this.ruleNumber !== null ? "delete-number" : command];
    if (this.zeroAfterList) given.push("zero");
    this.checkIllegalOptions(given);

    let rule: Rule | null = null;
    const takesRule = ["append", "check", "delete", "insert", "replace"].includes(command) && !(command === "delete" && this.ruleNumber !== null);
    if (takesRule) rule = this.buildRule();
    if (command === "replace" || command === "insert") {
      if (command === "replace" && this.ruleNumber === null) throw new ParameterProblem("-R requires a rule number");
    }
    if (this.chain !== null) this.checkInterfacesForChain(this.chain);
    return {
      command,
      zeroAfterList: this.zeroAfterList,
      table: this.table,
      chain: this.chain,
      ruleNumber: this.ruleNumber,
      argument: this.argument,
      rule,
      numeric: this.flags.numeric,
      verbose: this.flags.verbose,
      exact: this.flags.exact,
      lineNumbers: this.flags.lineNumbers,
    };
  }

  private checkIllegalOptions(commands: readonly (CommandName | "delete-number")[]): void {
    // In iptables' order of options: -n -s -d -p -j -v -x -i -o --line-numbers -c -f.
    for (const id of ["n", "s", "d", "p", "j", "v", "x", "i", "o", "line", "c", "f"]) {
      if (!this.usedOptions.has(id)) continue;
      const letter = OPTION_LETTER[id] ?? id;
      if (commands.every((c) => ILLEGAL_OPTIONS[c].includes(letter))) {
        const spelled = id === "line" ? "--line-numbers" : `-${id}`;
        throw new ParameterProblem(`Illegal option \`${spelled}' with this command\n`);
      }
    }
  }

  /** The kernel cannot know the out interface before routing, nor the in interface after it. */
  private checkInterfacesForChain(chain: string): void {
    if (this.outInterface && (chain === "PREROUTING" || chain === "INPUT")) {
      throw new ParameterProblem(`Can't use -o with ${chain}\n`);
    }
    if (this.inInterface && (chain === "POSTROUTING" || chain === "OUTPUT")) {
      throw new ParameterProblem(`Can't use -i with ${chain}\n`);
    }
  }

  private buildRule(): Rule {
    const ruleCtx = { table: this.table, protocol: this.protocol, protocolInverted: this.protocolInverted };
    const matches: MatchUse[] = [];
    for (const use of this.matchUses) {
      const ext = use.ext as MatchExtension;
      if (ext.requiredProtocol !== undefined && (this.protocol !== ext.requiredProtocol || this.protocolInverted)) {
        throw new ParameterProblem(ext.requiresProtocolMessage ?? `${ext.name} match requires '-p ${ext.name}'`);
      }
      ext.finalCheck?.(use.data, ruleCtx);
      matches.push({ ext, data: use.data });
    }
    let target: RuleTarget = { kind: "none" };
    if (this.targetName !== null) {
      if (this.targetIsGoto) {
        target = { kind: "goto", chain: this.targetName };
      } else if (this.targetExt) {
        const ext = this.targetExt.ext as TargetExtension;
        ext.finalCheck?.(this.targetExt.data, ruleCtx);
        target = { kind: "extension", ext, data: this.targetExt.data };
      } else if (isVerdict(this.targetName)) {
        target = { kind: "verdict", verdict: this.targetName };
      } else {
        target = { kind: "jump", chain: this.targetName };
      }
    }
    return {
      source: this.source,
      destination: this.destination,
      inInterface: this.inInterface,
      outInterface: this.outInterface,
      protocol: this.protocol,
      protocolInverted: this.protocolInverted,
      fragment: this.fragment,
      matches,
      target,
      counters: this.counters ?? { packets: 0, bytes: 0 },
    };
  }
}

function isVerdict(name: string): name is Verdict {
  return name === "ACCEPT" || name === "DROP" || name === "RETURN";
}

const IFNAMSIZ = 16;

function parseInterface(name: string): string {
  if (name.length >= IFNAMSIZ) {
    throw new ParameterProblem(`interface name \`${name}' must be shorter than IFNAMSIZ (${IFNAMSIZ - 1})`);
  }
  for (const ch of name) {
    if (ch === "/" || ch === " " || ch === "\t" || ch === "\n") {
      throw new ParameterProblem(`Invalid interface name \`${name}'`);
    }
  }
  return name;
}

function parseRuleNumber(text: string): number {
  if (!/^[0-9]+$/.test(text) || Number(text) < 1 || Number(text) > 0x7fffffff) {
    throw new ParameterProblem(`Invalid rule number \`${text}'`);
  }
  return Number(text);
}

function parseCounter(text: string, what: string): number {
  if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new ParameterProblem(`-c ${what} counter not numeric`);
  }
  return Number(text);
}
