// Carries out one parsed iptables command on a rule set as iptables-nft 1.8.9 and the kernel do:
// the same refusals with the same errnos and exit codes, the same `-v` output, tables and built-in
// chains created when iptables-nft creates them (see model.ts), and the rule set left untouched
// when a command fails (every change is made on a copy that replaces the original at the end, as
// a netlink batch is committed whole or not at all). What the kernel itself checks is in
// validate.ts: here every rule, chain deletion or rename is handed to its KernelBatch.
import { FailedAfterOutput, KernelRefusal, ParameterProblem, PrefixedProblem, RuleSetError } from "../rules/errors.ts";
import {
  countPolicy,
  ensureAllBuiltinChains,
  ensureBuiltinChain,
  isBuiltinChainName,
  listedChains,
  newTable,
  newUserChain,
  type Chain,
  type Rule,
  type RuleSet,
  type Table,
} from "../rules/model.ts";
import { BUILTIN_CHAINS } from "../rules/tables.ts";
import { commitBatch, type KernelBatch } from "../rules/validate.ts";
import { checkNewChainName, type Command } from "./command.ts";
import { jumpTarget, sameRule } from "./rule-format.ts";
import { formatRuleForCommand, listChains } from "./list.ts";
import { listRules } from "./list-rules.ts";

// iptables' words for the errnos it reports itself (nft_strerror), printed as "iptables: TEXT".
const NO_SUCH_CHAIN = "No chain/target/match by that name.";
const BAD_RULE = "Bad rule (does a matching rule exist in that chain?).";

/** The netlink operation iptables-nft names when the kernel refuses a rule. */
const KERNEL_OPERATION: Partial<Record<Command["command"], string>> = {
  append: "RULE_APPEND",
  insert: "RULE_INSERT",
  replace: "RULE_REPLACE",
};

export interface Execution {
  /** What the command prints on stdout. */
  readonly stdout: string;
  /** Whether the rule set changed (so the caller must store it). */
  readonly changed: boolean;
}

/**
 * Runs the command as one netlink batch. Throws ParameterProblem, RuleSetError, KernelRefusal (the
 * first message the kernel refused) or PrefixedProblem (each with its exit code), wrapped in
 * FailedAfterOutput when something was printed first; `rules` is then exactly as it was.
 */
export function executeCommand(rules: RuleSet, cmd: Command): Execution {
  const committed = commitBatch(rules, (working, batch) => applyCommand(working, cmd, batch));
  const refused = committed.refusals[0];
  if (refused) {
    const error = new KernelRefusal(refused.operation, refused.errno, refused.object, refused.reason);
    throw committed.result.stdout !== "" ? new FailedAfterOutput(committed.result.stdout, error) : error;
  }
  if (committed.result.changed) rules.replaceWith(committed.rules);
  return committed.result;
}

/**
 * Runs the command on `rules` itself, handing what the kernel checks to `batch` (whose refusals
 * the caller must look at); it may leave `rules` half changed when it throws. For callers that
 * work on a copy already: executeCommand, and iptables-restore, whose batch is a whole table.
 */
export function applyCommand(rules: RuleSet, cmd: Command, batch: KernelBatch): Execution {
  const output = new Output();
  try {
    const changed = run(rules, cmd, output, batch);
    return { stdout: output.text, changed };
  } catch (error) {
    if (output.text !== "" && error instanceof Error) throw new FailedAfterOutput(output.text, error);
    throw error;
  }
}

class Output {
  text = "";
  print(line: string): void {
    this.text += line;
  }
}

function run(rules: RuleSet, cmd: Command, out: Output, batch: KernelBatch): boolean {
  switch (cmd.command) {
    case "list":
    case "list-rules":
      return list(rules, cmd, out);
    case "append":
    case "insert":
    case "replace":
    case "check":
    case "delete":
      if (cmd.command === "delete" && cmd.ruleNumber !== null) return deleteNumber(rules, cmd);
      return ruleCommand(rules, cmd, out, batch);
    case "flush":
      return flush(rules, cmd, out);
    case "zero":
      return zero(rules, cmd, out);
    case "new-chain":
      return newChain(rules, cmd, batch);
    case "delete-chain":
      return deleteChains(rules, cmd, out, batch);
    case "policy":
      return setPolicy(rules, cmd);
    case "rename-chain":
      return renameChain(rules, cmd, batch);
    case "help":
    case "version":
    case "skip":
      return false;
  }
}

// ---- listing ---------------------------------------------------------------------------------

function list(rules: RuleSet, cmd: Command, out: Output): boolean {
  const existing = rules.tables.get(cmd.table);
  const table = existing ?? newTable(cmd.table);
  if (cmd.chain !== null && !table.chains.has(cmd.chain) && !isBuiltinChainName(table, cmd.chain)) {
    throw new PrefixedProblem(`chain \`${cmd.chain}' in table \`${cmd.table}' is incompatible, use 'nft' tool.`);
  }
  const format = { ...cmd, verbose: cmd.verbose > 0 };
  out.print(cmd.command === "list" ? listChains(table, format) : listRules(table, format));
  if (!cmd.zeroAfterList) return false;
  if (cmd.zeroRuleNumber) {
    zeroRule(existing, cmd.chain, cmd.ruleNumber!);
    return true;
  }
  // iptables shows built-in chains that do not exist yet; zeroing them creates them, and fails
  // when even the table does not exist.
  const shown = cmd.chain === null ? listedChains(table) : listedChains(table).filter((c) => c.name === cmd.chain);
  if (!existing) {
    const first = shown[0]!;
    throw new KernelRefusal("CHAIN_ZERO", "No such file or directory", `chain ${first.name}`, "the table does not exist");
  }
  for (const chain of shown) {
    const real = chain.hook !== null ? ensureBuiltinChain(existing, chain.hook) : chain;
    zeroChain(real);
    if (cmd.verbose) out.print(`Zeroing chain \`${real.name}'\n`);
  }
  return true;
}

// ---- rules -----------------------------------------------------------------------------------

/** The chain named `name` if it exists (a built-in chain not created yet does not). */
function existingChain(table: Table | undefined, name: string | null): Chain | undefined {
  return name === null ? undefined : table?.chains.get(name);
}

/** iptables-nft's nft_chain_exists: a chain of the rule set, or any built-in chain name of the table. */
function chainNameExists(table: Table | undefined, tableName: Table["name"], name: string): boolean {
  return (table?.chains.has(name) ?? false) || (BUILTIN_CHAINS[tableName] as readonly string[]).includes(name);
}

function ruleCommand(rules: RuleSet, cmd: Command, out: Output, batch: KernelBatch): boolean {
  const chainName = cmd.chain!;
  const existing = rules.tables.get(cmd.table);
  // nft_cmd_new: a jump to a chain that does not exist is refused before anything is done.
  for (const rule of cmd.rules) {
    const target = jumpTarget(rule);
    if (target !== null && !chainNameExists(existing, cmd.table, target)) {
      throw new ParameterProblem(`Chain '${target}' does not exist`);
    }
  }
  const operation = KERNEL_OPERATION[cmd.command] ?? "RULE_APPEND";
  let changed = false;
  for (const rule of cmd.rules) {
    switch (cmd.command) {
      case "append": {
        const table = rules.table(cmd.table);
        if (cmd.verbose) out.print(formatRuleForCommand(rule));
        const chain = chainForNewRule(table, chainName);
        if (batch.admitRule(table, chainName, rule, operation)) {
          chain.rules.push(rule);
          batch.ruleAdded(table, chainName, operation);
        }
        changed = true;
        break;
      }
      case "insert": {
        const table = rules.table(cmd.table);
        const chain = chainForNewRule(table, chainName);
        const index = (cmd.ruleNumber ?? 1) - 1;
        if (index > chain.rules.length) throw new RuleSetError("Index of insertion too big.");
        if (cmd.verbose) out.print(formatRuleForCommand(rule));
        if (batch.admitRule(table, chainName, rule, operation)) {
          chain.rules.splice(index, 0, rule);
          batch.ruleAdded(table, chainName, operation);
        }
        changed = true;
        break;
      }
      case "replace": {
        const table = rules.tables.get(cmd.table);
        const chain = existingChain(table, chainName);
        if (!table || !chain) throw new RuleSetError(NO_SUCH_CHAIN);
        const index = cmd.ruleNumber! - 1;
        if (index >= chain.rules.length) throw new RuleSetError("Index of replacement too big.");
        if (cmd.verbose) out.print(formatRuleForCommand(rule));
        // A refused replacement leaves the old rule in place.
        if (batch.admitRule(table, chainName, rule, operation)) {
          chain.rules[index] = rule;
          batch.ruleAdded(table, chainName, operation);
        }
        changed = true;
        break;
      }
      case "check":
      case "delete": {
        // No chain, no rule: iptables-nft says the same either way.
        const chain = existingChain(rules.tables.get(cmd.table), chainName);
        if (!chain) throw new RuleSetError(BAD_RULE);
        const index = chain.rules.findIndex((r) => sameRule(r, rule));
        if (index < 0) throw new RuleSetError(BAD_RULE);
        if (cmd.verbose) out.print(formatRuleForCommand(rule));
        if (cmd.command === "delete") {
          chain.rules.splice(index, 1);
          changed = true;
        }
        break;
      }
    }
  }
  return changed;
}

/** The chain -A/-I add to: a built-in chain is created on first use, a user chain must exist. */
function chainForNewRule(table: Table, name: string): Chain {
  if (isBuiltinChainName(table, name)) return ensureBuiltinChain(table, name);
  const chain = table.chains.get(name);
  if (!chain) throw new RuleSetError(NO_SUCH_CHAIN);
  return chain;
}

function deleteNumber(rules: RuleSet, cmd: Command): boolean {
  const chain = existingChain(rules.tables.get(cmd.table), cmd.chain);
  if (!chain) throw new RuleSetError(NO_SUCH_CHAIN);
  if (cmd.ruleNumber! > chain.rules.length) throw new RuleSetError("Index of deletion too big.");
  chain.rules.splice(cmd.ruleNumber! - 1, 1);
  return true;
}

// ---- chains ----------------------------------------------------------------------------------

/**
 * The chains that exist, in the order iptables walks them for -F/-Z/-X without a chain (and
 * prints them with -v): built-in chains in hook order, then user chains by name.
 */
function chainsByName(table: Table): Chain[] {
  return listedChains(table).filter((c) => table.chains.get(c.name) === c);
}

function flush(rules: RuleSet, cmd: Command, out: Output): boolean {
  if (cmd.chain !== null) {
    const table = rules.table(cmd.table);
    const chain = chainForNewRule(table, cmd.chain);
    if (cmd.verbose) out.print(`Flushing chain \`${chain.name}'\n`);
    chain.rules = [];
    return true;
  }
  // Without a chain, only `-v` makes iptables-nft create the table and its built-in chains.
  if (!cmd.verbose && !rules.tables.has(cmd.table)) return false;
  const table = rules.table(cmd.table);
  if (cmd.verbose) ensureAllBuiltinChains(table);
  for (const chain of chainsByName(table)) {
    if (cmd.verbose) out.print(`Flushing chain \`${chain.name}'\n`);
    chain.rules = [];
  }
  return true;
}

function zeroChain(chain: Chain): void {
  // Zeroing sends the chain's counters to the kernel, which gives a base chain its counter.
  countPolicy(chain);
  chain.policyCounters.packets = 0;
  chain.policyCounters.bytes = 0;
  for (const rule of chain.rules) {
    rule.counters.packets = 0;
    rule.counters.bytes = 0;
  }
}

/** -Z CHAIN N: a chain that does not exist is a "bad rule"; a rule number past the end does nothing. */
function zeroRule(table: Table | undefined, chainName: string | null, ruleNumber: number): void {
  const chain = existingChain(table, chainName);
  if (!chain) throw new RuleSetError(BAD_RULE);
  const rule = chain.rules[ruleNumber - 1];
  if (rule) {
    rule.counters.packets = 0;
    rule.counters.bytes = 0;
  }
}

function zero(rules: RuleSet, cmd: Command, out: Output): boolean {
  const table = rules.tables.get(cmd.table);
  if (cmd.zeroRuleNumber) {
    zeroRule(table, cmd.chain, cmd.ruleNumber!);
    return true;
  }
  if (cmd.chain !== null) {
    const chain = existingChain(table, cmd.chain);
    if (!chain) throw new RuleSetError(NO_SUCH_CHAIN);
    if (cmd.verbose) out.print(`Zeroing chain \`${chain.name}'\n`);
    zeroChain(chain);
    return true;
  }
  if (!table) return false;
  for (const chain of chainsByName(table)) {
    if (cmd.verbose) out.print(`Zeroing chain \`${chain.name}'\n`);
    zeroChain(chain);
  }
  return true;
}

function newChain(rules: RuleSet, cmd: Command, batch: KernelBatch): boolean {
  const name = cmd.chain!;
  if (chainNameExists(rules.tables.get(cmd.table), cmd.table, name)) throw new RuleSetError("Chain already exists.");
  rules.table(cmd.table).chains.set(name, newUserChain(name));
  batch.chainCreated(cmd.table, name);
  return true;
}

function referenced(table: Table, name: string): boolean {
  for (const chain of table.chains.values()) for (const rule of chain.rules) if (jumpTarget(rule) === name) return true;
  return false;
}

/**
 * The CHAIN_DEL message for a user chain: the kernel refuses one that has rules or is jumped to
 * (nf_tables counts both as its users). Returns whether the chain may go.
 */
function admitChainDelete(table: Table, chain: Chain, batch: KernelBatch): boolean {
  if (chain.rules.length > 0 || referenced(table, chain.name)) {
    batch.refuse("CHAIN_DEL", "Device or resource busy", `chain ${chain.name}`, "the chain has rules or is jumped to");
    return false;
  }
  return true;
}

function deleteChains(rules: RuleSet, cmd: Command, out: Output, batch: KernelBatch): boolean {
  const table = rules.tables.get(cmd.table);
  if (cmd.chain !== null) {
    const chain = existingChain(table, cmd.chain);
    if (!table || !chain) throw new RuleSetError(NO_SUCH_CHAIN);
    if (chain.hook !== null) {
      // iptables-nft 1.8.9 deletes a built-in chain too: it then no longer exists (as before its
      // first use); one with policy DROP it keeps, one with rules the kernel keeps.
      if (chain.policy !== "ACCEPT") throw new RuleSetError("Directory not empty.");
      if (chain.rules.length > 0) {
        batch.refuse("CHAIN_DEL", "Device or resource busy", `chain ${chain.name}`, "the chain has rules");
        return true;
      }
      table.chains.delete(chain.name);
      return true;
    }
    if (cmd.verbose) out.print(`Deleting chain \`${chain.name}'\n`);
    if (admitChainDelete(table, chain, batch)) table.chains.delete(chain.name);
    return true;
  }
  if (!table) return false;
  // All user chains in one batch: one the kernel refuses fails them all. The kernel meets them in
  // the order they were created, and reports the first it refuses (whose refusal comes first).
  const users = chainsByName(table).filter((c) => c.hook === null);
  if (cmd.verbose) for (const chain of users) out.print(`Deleting chain \`${chain.name}'\n`);
  const deletable = [...table.chains.values()].filter((chain) => chain.hook === null && admitChainDelete(table, chain, batch));
  for (const chain of deletable) table.chains.delete(chain.name);
  // Built-in chains go too when nothing would be lost: no rules and policy ACCEPT.
  for (const chain of [...table.chains.values()]) {
    if (chain.hook !== null && chain.rules.length === 0 && chain.policy === "ACCEPT") table.chains.delete(chain.name);
  }
  return true;
}

function setPolicy(rules: RuleSet, cmd: Command): boolean {
  const policy = cmd.argument;
  if (policy !== "ACCEPT" && policy !== "DROP") throw new RuleSetError("Bad policy name.", 1, true);
  const name = cmd.chain!;
  const table = rules.table(cmd.table);
  if (!isBuiltinChainName(table, name)) throw new RuleSetError("Bad built-in chain name.");
  const chain = ensureBuiltinChain(table, name);
  chain.policy = policy;
  countPolicy(chain);
  return true;
}

function renameChain(rules: RuleSet, cmd: Command, batch: KernelBatch): boolean {
  const from = cmd.chain!;
  const to = cmd.argument!;
  const table = rules.tables.get(cmd.table);
  if (chainNameExists(table, cmd.table, to)) throw new RuleSetError("File exists.");
  const chain = existingChain(table, from);
  if (!table || !chain) throw new RuleSetError(NO_SUCH_CHAIN);
  if (chain.hook !== null) {
    // iptables-nft renames the base chain, and then can no longer show it ("incompatible").
    throw new RuleSetError("Can't rename a built-in chain.");
  }
  // iptables-nft takes any new name here (nftables allows 255 characters, blanks too, "" or a
  // target's name), which its own iptables-restore then refuses, splits, or reads as the target
  // ("-j ACCEPT" for a jump to a chain ACCEPT): uptables keeps -N's limits, in -N's words, so that
  // its rule sets stay restorable with the same meaning.
  checkNewChainName(to);
  // nf_tables renames a chain by its handle, which one created in the same batch (a chain declared
  // earlier in an iptables-restore table) does not have yet.
  if (batch.wasCreated(cmd.table, from)) {
    batch.refuse("CHAIN_RENAME", "No such file or directory", `chain ${to}`, "the chain was created in this batch");
    return true;
  }
  // Keep the chain's place (creation order) and move every jump to the new name.
  const renamed = new Map<string, Chain>();
  for (const [name, c] of table.chains) {
    if (name === from) renamed.set(to, { ...c, name: to });
    else renamed.set(name, c);
  }
  table.chains.clear();
  for (const [name, c] of renamed) table.chains.set(name, c);
  for (const other of table.chains.values()) {
    other.rules = other.rules.map((rule) => {
      const target = rule.target;
      if ((target.kind === "jump" || target.kind === "goto") && target.chain === from) {
        return { ...rule, target: { kind: target.kind, chain: to } };
      }
      return rule;
    });
  }
  return true;
}
