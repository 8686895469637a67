// GNU getopt_long as iptables-save and iptables-restore call it (glibc, permuting order): options
// anywhere among the other words, short options in clusters ("-cn"), long options by any
// unambiguous prefix ("--count"), "--" ending the options, and glibc's own messages for the
// mistakes. (iptables itself parses in "return in order" mode, which command.ts models.)

export interface LongOption {
  readonly name: string;
  /** 0: none, 1: required, 2: optional (only as "--name=value"). */
  readonly hasArg: 0 | 1 | 2;
  /** The letter getopt returns for it. */
  readonly val: string;
}

/** What one call returned: an option (with its argument), or a mistake glibc has already worded. */
export type GetoptResult =
  | { readonly kind: "option"; readonly letter: string; readonly arg: string | null }
  | { readonly kind: "error"; readonly message: string };

export class Getopt {
  /** The next word to look at; the caller may move it on to consume a word (iptables-restore's -w N). */
  optind = 0;
  private cluster = "";
  /** Words that are not options, in order (glibc moves them to the end). */
  private readonly operands: string[] = [];
  private readonly short = new Map<string, 0 | 1 | 2>();

  constructor(
    private readonly program: string,
    private readonly argv: readonly string[],
    optstring: string,
    private readonly longOptions: readonly LongOption[],
  ) {
    for (let i = 0; i < optstring.length; i++) {
      const letter = optstring[i]!;
      let kind: 0 | 1 | 2 = 0;
      if (optstring[i + 1] === ":") {
        kind = optstring[i + 2] === ":" ? 2 : 1;
        i += kind;
      }
      this.short.set(letter, kind);
    }
  }

  /** The next option, or null when there are none left (then `rest()` gives the other words). */
  next(): GetoptResult | null {
    if (this.cluster === "") {
      for (;;) {
        if (this.optind >= this.argv.length) return null;
        const word = this.argv[this.optind]!;
        if (word === "--") {
          this.operands.push(...this.argv.slice(this.optind + 1));
          this.optind = this.argv.length;
          return null;
        }
        if (word.startsWith("--")) {
          this.optind++;
          return this.long(word);
        }
        if (word.startsWith("-") && word !== "-") {
          this.cluster = word.slice(1);
          this.optind++;
          break;
        }
        this.operands.push(word);
        this.optind++;
      }
    }
    const letter = this.cluster[0]!;
    this.cluster = this.cluster.slice(1);
    const kind = this.short.get(letter);
    if (kind === undefined) return this.error(`invalid option -- '${letter}'`);
    if (kind === 0) return { kind: "option", letter, arg: null };
    if (this.cluster !== "") {
      const arg = this.cluster;
      this.cluster = "";
      return { kind: "option", letter, arg };
    }
    if (kind === 2) return { kind: "option", letter, arg: null };
    if (this.optind >= this.argv.length) return this.error(`option requires an argument -- '${letter}'`);
    return { kind: "option", letter, arg: this.argv[this.optind++]! };
  }

  /** The words that are not options, once `next()` returned null. */
  rest(): string[] {
    return [...this.operands, ...this.argv.slice(this.optind)];
  }

  private long(word: string): GetoptResult {
    const eq = word.indexOf("=");
    const name = eq < 0 ? word.slice(2) : word.slice(2, eq);
    const attached = eq < 0 ? null : word.slice(eq + 1);
    let found = this.longOptions.find((o) => o.name === name);
    if (!found) {
      const candidates = this.longOptions.filter((o) => o.name.startsWith(name));
      const first = candidates[0];
      if (!first) return this.error(`unrecognized option '${word}'`);
      if (candidates.some((o) => o.hasArg !== first.hasArg || o.val !== first.val)) {
        return this.error(`option '${word}' is ambiguous; possibilities:${candidates.map((o) => ` '--${o.name}'`).join("")}`);
      }
      found = first;
    }
    if (found.hasArg === 0) {
      if (attached !== null) return this.error(`option '--${found.name}' doesn't allow an argument`);
      return { kind: "option", letter: found.val, arg: null };
    }
    if (attached !== null) return { kind: "option", letter: found.val, arg: attached };
    if (found.hasArg === 2) return { kind: "option", letter: found.val, arg: null };
    if (this.optind >= this.argv.length) return this.error(`option '--${found.name}' requires an argument`);
    return { kind: "option", letter: found.val, arg: this.argv[this.optind++]! };
  }

  private error(text: string): GetoptResult {
    return { kind: "error", message: `${this.program}: ${text}\n` };
  }
}
