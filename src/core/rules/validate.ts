// What the kernel (nf_tables, which iptables-nft 1.8.9 drives) checks when it takes a netlink
// batch in: one command of iptables, or one table of iptables-restore.
//
// - Each rule message is checked as it comes in (nf_tables_newrule): a jump or goto must name a
//   chain that exists (ENOENT) and is not a base chain (EOPNOTSUPP); an inverted -s/-d with a /0
//   mask is a zero-length comparison (EINVAL); each match and target must be allowed in the table
//   and, in a built-in chain, from its hook (EINVAL), and passes its own checks (`checkRule`, with
//   the errno the extension picks). A refused message is left out and the batch goes on, so that
//   every refused rule is reported; the batch is then aborted.
// - When every message passed, the tables that got rules are walked from each base chain
//   (nf_tables_validate): a chain reached 16 jumps deep is refused (EMLINK, NFT_JUMP_STACK_SIZE),
//   which is also how a loop of jumps is refused, and every match and target must accept each hook
//   it is reached from (EINVAL, e.g. DNAT only from PREROUTING/OUTPUT). Chains no base chain
//   reaches are not walked: loops among them are accepted, as nf_tables does.
// - When that walk fails, nfnetlink replays the whole batch with the table validated after every
//   rule message: the rule that made the table invalid is refused, and so is every later rule of
//   that table (the offending rule stays in until the batch is aborted).
import type { Extension, RuleCheckContext, RuleRefusal } from "../extensions/extension.ts";
import type { Hook } from "./hooks.ts";
import type { Chain, Rule, RuleSet, Table } from "./model.ts";
import { builtinChains } from "./model.ts";
import type { TableName } from "./tables.ts";

export type KernelErrno =
  | "Invalid argument"
  | "No such file or directory"
  | "Operation not supported"
  | "Too many links"
  | "Device or resource busy";

export interface TableProblem {
  /** The chain of the offending rule. */
  readonly chain: string;
  /** The offending rule's 0-based index. */
  readonly ruleIndex: number;
  /** The errno the kernel answers with, as strerror() words it. */
  readonly errno: KernelErrno;
  /** Why, in words, for people and logs. */
  readonly reason: string;
}

/** NFT_JUMP_STACK_SIZE: a chain 16 jumps below a base chain is refused. */
export const MAX_JUMP_DEPTH = 16;

/** The matches and target of a rule, each with its option data. */
function extensionsOf(rule: Rule): { ext: Extension; data: unknown }[] {
  const uses: { ext: Extension; data: unknown }[] = rule.matches.map((m) => ({ ext: m.ext, data: m.data }));
  if (rule.target.kind === "extension") uses.push({ ext: rule.target.ext, data: rule.target.data });
  return uses;
}

/** The checks made on one rule as the kernel takes it into `chainName` of `table`. */
export function checkNewRule(table: Table, chainName: string, rule: Rule): RuleRefusal | null {
  for (const address of [rule.source, rule.destination]) {
    if (address && address.inverted && address.mask === 0) {
      return { errno: "Invalid argument", reason: "an inverted address with a /0 mask compares zero bytes" };
    }
  }
  const chain = table.chains.get(chainName);
  const builtinHook = chain?.hook ?? null;
  const ctx: RuleCheckContext = {
    table: table.name,
    chain: chainName,
    builtinHook,
    protocol: rule.protocol,
    protocolInverted: rule.protocolInverted,
  };
  for (const { ext, data } of extensionsOf(rule)) {
    if (ext.tables && !ext.tables.includes(table.name)) {
      return { errno: "Invalid argument", reason: `${ext.name} is not valid in the ${table.name} table` };
    }
    if (builtinHook !== null && ext.hooks && !ext.hooks.includes(builtinHook)) {
      return { errno: "Invalid argument", reason: `${ext.name} cannot be used from ${builtinHook} (only ${ext.hooks.join(", ")})` };
    }
    const refusal = ext.checkRule?.(data, ctx);
    if (refusal) return refusal;
  }
  const target = rule.target;
  if (target.kind === "jump" || target.kind === "goto") {
    const next = table.chains.get(target.chain);
    if (!next) return { errno: "No such file or directory", reason: `chain ${target.chain} does not exist` };
    if (next.hook !== null) return { errno: "Operation not supported", reason: `cannot jump to the base chain ${target.chain}` };
  }
  return null;
}

/** The hooks from which each chain is reached (chains nobody reaches get an empty set). */
export function hooksReaching(table: Table): Map<string, Set<Hook>> {
  const reach = new Map<string, Set<Hook>>();
  for (const chain of table.chains.values()) reach.set(chain.name, new Set());
  for (const base of builtinChains(table)) {
    const hook = base.hook!;
    const stack: string[] = [base.name];
    const visited = new Set<string>();
    while (stack.length > 0) {
      const name = stack.pop()!;
      if (visited.has(name)) continue;
      visited.add(name);
      reach.get(name)?.add(hook);
      for (const rule of table.chains.get(name)?.rules ?? []) {
        const target = rule.target;
        if (target.kind === "jump" || target.kind === "goto") stack.push(target.chain);
      }
    }
  }
  return reach;
}

/** What the walk checks of each rule it reaches from `hook`: the static hooks, and `checkHooks`. */
function checkHooksOfRule(rule: Rule, hook: Hook): string | null {
  for (const { ext, data } of extensionsOf(rule)) {
    if (ext.hooks && !ext.hooks.includes(hook)) return `${ext.name} cannot be used from ${hook} (only ${ext.hooks.join(", ")})`;
    const reason = ext.checkHooks?.(data, new Set([hook]));
    if (reason) return reason;
  }
  return null;
}

/**
 * nf_tables_validate: walks the table from every base chain as the kernel does, rule by rule,
 * following jumps; returns the first problem, or null when the kernel accepts the table.
 */
export function validateTable(table: Table): TableProblem | null {
  // A chain found acceptable at some depth is acceptable at any shallower one: remember the
  // deepest level each chain passed at (per hook), so shared chains are not walked again and again.
  const passed = new Map<string, number>();
  const walk = (chain: Chain, hook: Hook, level: number): TableProblem | null => {
    const key = `${hook} ${chain.name}`;
    if ((passed.get(key) ?? -1) >= level) return null;
    for (let i = 0; i < chain.rules.length; i++) {
      const rule = chain.rules[i]!;
      const reason = checkHooksOfRule(rule, hook);
      if (reason) return { chain: chain.name, ruleIndex: i, errno: "Invalid argument", reason };
      const target = rule.target;
      if (target.kind !== "jump" && target.kind !== "goto") continue;
      const next = table.chains.get(target.chain);
      if (!next || next.hook !== null) continue;
      if (level + 1 === MAX_JUMP_DEPTH) {
        return { chain: chain.name, ruleIndex: i, errno: "Too many links", reason: "jumps nest too deep, or loop" };
      }
      const problem = walk(next, hook, level + 1);
      if (problem) return problem;
    }
    passed.set(key, level);
    return null;
  };
  for (const base of builtinChains(table)) {
    const problem = walk(base, base.hook!, 0);
    if (problem) return problem;
  }
  return null;
}

// ---- batches ---------------------------------------------------------------------------------

/** One netlink message the kernel refused, as iptables-nft reports it: "OP failed (errno): object". */
export interface MessageRefusal {
  /** The netlink operation: RULE_APPEND, RULE_INSERT, RULE_REPLACE, CHAIN_DEL, CHAIN_RENAME... */
  readonly operation: string;
  readonly errno: KernelErrno;
  /** What iptables-nft names after the colon: "rule in chain INPUT", "chain X". */
  readonly object: string;
  /** Why, for people. */
  readonly reason: string;
  /** The iptables-restore line the message came from; null for a command of iptables. */
  readonly line: number | null;
}

/**
 * The kernel's side of one netlink batch while the commands that make it run: each message is
 * checked as it comes in (see the top of this file), and refusals are collected rather than thrown.
 */
export class KernelBatch {
  readonly refusals: MessageRefusal[] = [];
  /** Tables that got rules: the kernel validates them when the batch is committed. */
  readonly tablesToValidate = new Set<TableName>();
  /** Chains this batch created ("table chain"): nf_tables cannot rename them before the commit. */
  readonly createdChains = new Set<string>();
  /** The iptables-restore line the next messages come from (null for a command of iptables). */
  line: number | null = null;

  /**
   * @param validateEachRule the replay after a failed validation: the table is validated after
   *   every rule message, and the message refused while the table is invalid.
   */
  constructor(readonly validateEachRule = false) {}

  refuse(operation: string, errno: KernelErrno, object: string, reason: string): void {
    this.refusals.push({ operation, errno, object, reason, line: this.line });
  }

  /**
   * A rule message for `chainName` (operation RULE_APPEND, RULE_INSERT or RULE_REPLACE): the
   * checks the kernel makes as it takes the rule in. Returns false when it refuses the rule, which
   * must then not be added.
   */
  admitRule(table: Table, chainName: string, rule: Rule, operation: string): boolean {
    const refusal = checkNewRule(table, chainName, rule);
    if (refusal) {
      this.refuse(operation, refusal.errno, `rule in chain ${chainName}`, refusal.reason);
      return false;
    }
    this.tablesToValidate.add(table.name);
    return true;
  }

  /** After an admitted rule went in: in the replay, the table is validated now. */
  ruleAdded(table: Table, chainName: string, operation: string): void {
    if (!this.validateEachRule) return;
    const problem = validateTable(table);
    if (problem) this.refuse(operation, problem.errno, `rule in chain ${chainName}`, problem.reason);
  }

  chainCreated(table: TableName, chain: string): void {
    this.createdChains.add(`${table} ${chain}`);
  }

  wasCreated(table: TableName, chain: string): boolean {
    return this.createdChains.has(`${table} ${chain}`);
  }
}

/** What committing a batch gave: the rule set it made and what `send` returned, or the refusals. */
export interface BatchOutcome<T> {
  /** The rule set after the batch; the caller keeps it only when there is no refusal. */
  readonly rules: RuleSet;
  /** What `send` returned on its first run. */
  readonly result: T;
  /** Every message the kernel refused, in batch order; empty when the batch is committed. */
  readonly refusals: readonly MessageRefusal[];
}

/**
 * Runs `send` (the commands that make one batch) on a copy of `before` and commits the batch as the
 * kernel does: the refusals of single messages first; else the validation of the tables that got
 * rules, and when it fails, a replay of the batch that validates after each rule to find which
 * messages to refuse. `send` may throw userspace errors, which pass through; it runs a second time
 * only for the replay, whose result is dropped.
 */
export function commitBatch<T>(before: RuleSet, send: (rules: RuleSet, batch: KernelBatch) => T): BatchOutcome<T> {
  const rules = before.clone();
  const batch = new KernelBatch();
  const result = send(rules, batch);
  if (batch.refusals.length > 0) return { rules, result, refusals: batch.refusals };
  for (const name of batch.tablesToValidate) {
    const table = rules.tables.get(name);
    const problem = table ? validateTable(table) : null;
    if (problem === null) continue;
    const replay = new KernelBatch(true);
    send(before.clone(), replay);
    // The replay refuses at least the rule that made the table invalid; should it not (a state the
    // first run reached otherwise), the walk's own finding is reported.
    const refusals: readonly MessageRefusal[] =
      replay.refusals.length > 0
        ? replay.refusals
        : [{ operation: "RULE_APPEND", errno: problem.errno, object: `rule in chain ${problem.chain}`, reason: problem.reason, line: null }];
    return { rules, result, refusals };
  }
  return { rules, result, refusals: [] };
}
