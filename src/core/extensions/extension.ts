// The three faces of every match (-m NAME) and target (-j NAME), as iptables' libxt_*.c have them:
// parse the options, print them as iptables-save and iptables -L do, and say where the kernel accepts them.
import type { PacketContext } from "../engine/packet-context.ts";
import type { Hook } from "../rules/hooks.ts";
import type { TableName } from "../rules/tables.ts";
import type { KernelErrno } from "../rules/validate.ts";

export interface OptionSpec {
  /** Long option name without the dashes, e.g. "dport". */
  readonly name: string;
  /** Whether it takes an argument (iptables' required_argument). */
  readonly hasArg: boolean;
  /** Whether `! --name` is allowed. */
  readonly invertible?: boolean;
  /** Whether it may be given more than once in one rule. */
  readonly repeatable?: boolean;
  /** Other spellings (`destination-port` for `dport`); `parse` always receives `name`. */
  readonly aliases?: readonly string[];
}

/** What an extension can see of the rule while its options are parsed. */
export interface ParseContext {
  readonly table: TableName;
  /** The rule's `-p` protocol number (0 = all), as far as it was given before or after the options. */
  readonly protocol: number;
  readonly protocolInverted: boolean;
  /**
   * Consumes the next word of the command line and returns it, for options with more than one
   * argument (`--tcp-flags MASK COMP`); undefined when there is none or it is an option.
   */
  takeExtraArgument(): string | undefined;
  /**
   * Prints a warning on stderr as iptables does while it parses the option, and goes on: the text
   * as is, newline included (e.g. "xt_iprange: range 10.0.0.9-10.0.0.1 is reversed and will never
   * match\n"). It comes before any error a later option or check gives. Optional only so that
   * tests can build a context without it.
   */
  warn?(text: string): void;
}

/** What `finalCheck` sees: the whole rule's basic part, after every option was parsed. */
export interface RuleContext {
  readonly table: TableName;
  readonly protocol: number;
  readonly protocolInverted: boolean;
  /** As ParseContext.warn, from the final check (before the error of any check after it). */
  warn?(text: string): void;
}

/**
 * What the kernel knows of a rule when it takes the rule in (xt_check_match / xt_check_target's
 * parameters under nf_tables): its table, its own chain's hook, and its -p.
 */
export interface RuleCheckContext {
  readonly table: TableName;
  /** The rule's own chain. */
  readonly chain: string;
  /**
   * The hook of that chain when it is a built-in one; null in a user chain, where nf_tables passes
   * no hook at all (hook_mask 0), so hook-dependent checks there pass whoever jumps to it.
   */
  readonly builtinHook: Hook | null;
  /** The rule's -p (0 for any); with protocolInverted the kernel treats it as no protocol. */
  readonly protocol: number;
  readonly protocolInverted: boolean;
}

/** Why the kernel refuses a rule: the errno it answers with (as strerror words it) and, for people, why. */
export interface RuleRefusal {
  readonly errno: KernelErrno;
  readonly reason: string;
}

export interface PrintOptions {
  /** -n: numbers instead of names (ports, addresses). */
  readonly numeric: boolean;
}

interface ExtensionBase<Data> {
  /** The name after -m or -j, exactly as iptables-save prints it. */
  readonly name: string;
  readonly options: readonly OptionSpec[];
  /** Fresh option data for one use of the extension in one rule. */
  init(): Data;
  /** Takes one option; throws ParameterProblem with iptables' wording when it is wrong. */
  parse(data: Data, option: string, argument: string | undefined, inverted: boolean, ctx: ParseContext): void;
  /** Checks the options together once the rule is complete (xtables' x6_fcheck). */
  finalCheck?(data: Data, ctx: RuleContext): void;
  /** The options as iptables-save prints them after "-m NAME" / "-j NAME", without a leading space; "" for none. */
  save(data: Data): string;
  /** The options as `iptables -L` prints them in the last column, without a leading space. */
  print(data: Data, opts: PrintOptions): string;
  /** The tables the kernel accepts the extension in; undefined for all. */
  readonly tables?: readonly TableName[];
  /**
   * The hooks the kernel accepts it from (the xt_match/xt_target's own `.hooks`): checked when a
   * rule is added to a built-in chain, and again through every jump that reaches a rule in a user
   * chain (nf_tables' validation of the table; EINVAL).
   */
  readonly hooks?: readonly Hook[];
  /**
   * Further checks made through jumps, against every hook that reaches the rule (a reason for
   * EINVAL, or null). The kernel makes few: most of its checks are `checkRule`'s, made once.
   */
  checkHooks?(data: Data, hooks: ReadonlySet<Hook>): string | null;
  /**
   * The kernel's own checks of the match or target (its checkentry, and xt_check_*'s protocol
   * test), made once, when a rule is added, against that rule's chain: a hook-dependent check
   * passes in a user chain whatever jumps there later. Called after `tables` and `hooks` were
   * checked; returns the refusal (the extension picks the errno) or null.
   */
  checkRule?(data: Data, ctx: RuleCheckContext): RuleRefusal | null;
  /**
   * Whether a rule using it makes the namespace track connections: its kernel checkentry calls
   * nf_ct_netns_get, which registers conntrack's hooks (see CompiledRuleSet.tracksConnections).
   * Absent means no.
   */
  usesConntrack?(data: Data): boolean;
}

/** The per-packet face of a match: does the packet match? Must not allocate. */
export type MatchFunction = (ctx: PacketContext) => boolean;

/**
 * The per-packet face of a target: NF_DROP, NF_ACCEPT, or XT_CONTINUE to go on with the next rule
 * (engine/verdict.ts). Side effects (a mark, a NAT request, a REJECT reply) go on the context.
 */
export type TargetFunction = (ctx: PacketContext) => number;

export interface MatchExtension<Data = unknown> extends ExtensionBase<Data> {
  readonly kind: "match";
  /** Builds the per-packet test once, when the rule set is loaded into the engine. */
  compile?(data: Data): MatchFunction;
  /**
   * The protocol the match needs (`-p tcp` for -m tcp); with `requiresProtocolMessage` the text
   * iptables gives when it is missing, e.g. "TCP match requires '-p tcp'".
   */
  readonly requiredProtocol?: number;
  readonly requiresProtocolMessage?: string;
}

export interface TargetExtension<Data = unknown> extends ExtensionBase<Data> {
  readonly kind: "target";
  /**
   * The target the kernel really runs when this one is an alias (xtables' real_name): `iptables -L`
   * shows it in the target column, e.g. "CT" for NOTRACK. iptables-save still prints `name`.
   */
  readonly realName?: string;
  /** Builds the per-packet action once, when the rule set is loaded into the engine. */
  compile?(data: Data): TargetFunction;
}

export type Extension = MatchExtension | TargetExtension;

/** Ties an extension to its typed data for authors; the registry stores them type-erased. */
export function defineMatch<Data>(ext: Omit<MatchExtension<Data>, "kind">): MatchExtension {
  return { kind: "match", ...ext } as MatchExtension;
}

export function defineTarget<Data>(ext: Omit<TargetExtension<Data>, "kind">): TargetExtension {
  return { kind: "target", ...ext } as TargetExtension;
}
