// Carries out one parsed iptables command on a rule set, as the kernel and iptables would:
// the same refusals, the same exit codes, and the rule set left untouched when a command fails.
import { KernelRefusal, RuleSetError } from "../rules/errors.ts";
import { newUserChain, type Chain, type RuleSet, type Table } from "../rules/model.ts";
import { validateTable } from "../rules/validate.ts";
import { findTarget } from "../extensions/registry.ts";
import { ParameterProblem } from "../rules/errors.ts";
import type { Command } from "./command.ts";
import { jumpTarget, sameRule } from "./rule-format.ts";
import { listChains } from "./list.ts";
import { listRules } from "./list-rules.ts";

/** XT_EXTENSION_MAXNAMELEN: chain names are at most 28 characters. */
const MAX_CHAIN_NAME = 28;

const NO_SUCH_CHAIN = "No chain/target/match by that name.";
const BAD_RULE = "Bad rule (does a matching rule exist in that chain?).";

/** The operation name iptables-nft reports when the kernel refuses a change. */
const KERNEL_OPERATION: Partial<Record<Command["command"], string>> = {
  append: "RULE_APPEND",
  insert: "RULE_INSERT",
  replace: "RULE_REPLACE",
};

/**
 * Runs the command; returns what it prints on stdout. Throws ParameterProblem, RuleSetError or
 * KernelRefusal (each with its exit code) and then leaves `rules` exactly as it was.
 */
export function executeCommand(rules: RuleSet, cmd: Command): string {
  if (cmd.command === "list" || cmd.command === "list-rules") {
    const existing = rules.tables.get(cmd.table);
    const table = existing ?? rules.clone().table(cmd.table);
    if (cmd.chain !== null && !table.chains.has(cmd.chain)) throw new RuleSetError(NO_SUCH_CHAIN);
    const out = cmd.command === "list" ? listChains(table, cmd) : listRules(table, cmd);
    if (cmd.zeroAfterList && existing) zero(existing, cmd.chain, null);
    return out;
  }
  // Work on a copy of the table, check it as the kernel would, then swap it in.
  const working = rules.clone();
  const table = working.table(cmd.table);
  applyToTable(table, cmd);
  const problem = validateTable(table);
  if (problem) {
    const operation = KERNEL_OPERATION[cmd.command] ?? "TABLE_COMMIT";
    throw new KernelRefusal(operation, problem.errno, `rule in chain ${cmd.chain ?? problem.chain}`, problem.reason);
  }
  rules.replaceWith(working);
  return "";
}

function chainOf(table: Table, name: string | null): Chain {
  const chain = name === null ? undefined : table.chains.get(name);
  if (!chain) throw new RuleSetError(NO_SUCH_CHAIN);
  return chain;
}

function checkJumpExists(table: Table, cmd: Command): void {
  const target = cmd.rule ? jumpTarget(cmd.rule) : null;
  if (target === null) return;
  if (!table.chains.has(target)) throw new ParameterProblem(`Chain '${target}' does not exist`);
}

export function applyToTable(table: Table, cmd: Command): void {
  switch (cmd.command) {
    case "append": {
      const chain = chainOf(table, cmd.chain);
      checkJumpExists(table, cmd);
      chain.rules.push(cmd.rule!);
      return;
    }
    case "insert": {
      const chain = chainOf(table, cmd.chain);
      checkJumpExists(table, cmd);
      const index = (cmd.ruleNumber ?? 1) - 1;
      if (index > chain.rules.length) throw new RuleSetError("Index of insertion too big.");
      chain.rules.splice(index, 0, cmd.rule!);
      return;
    }
    case "replace": {
      const chain = chainOf(table, cmd.chain);
      checkJumpExists(table, cmd);
      const index = cmd.ruleNumber! - 1;
      if (index >= chain.rules.length) throw new RuleSetError("Index of replacement too big.");
      chain.rules[index] = cmd.rule!;
      return;
    }
    case "check": {
      const chain = chainOf(table, cmd.chain);
      checkJumpExists(table, cmd);
      if (!chain.rules.some((r) => sameRule(r, cmd.rule!))) throw new RuleSetError(BAD_RULE);
      return;
    }
    case "delete": {
      const chain = chainOf(table, cmd.chain);
      if (cmd.ruleNumber !== null) {
        if (cmd.ruleNumber > chain.rules.length) throw new RuleSetError("Index of deletion too big.");
        chain.rules.splice(cmd.ruleNumber - 1, 1);
        return;
      }
      checkJumpExists(table, cmd);
      const index = chain.rules.findIndex((r) => sameRule(r, cmd.rule!));
      if (index < 0) throw new RuleSetError(BAD_RULE);
      chain.rules.splice(index, 1);
      return;
    }
    case "flush": {
      if (cmd.chain === null) {
        for (const chain of table.chains.values()) chain.rules = [];
      } else {
        chainOf(table, cmd.chain).rules = [];
      }
      return;
    }
    case "zero":
      zero(table, cmd.chain, cmd.ruleNumber);
      return;
    case "new-chain":
      newChain(table, cmd.chain!);
      return;
    case "delete-chain":
      deleteChains(table, cmd.chain);
      return;
    case "policy": {
      const chain = table.chains.get(cmd.chain!);
      if (!chain || chain.hook === null) throw new RuleSetError("Bad built-in chain name.");
      if (cmd.argument !== "ACCEPT" && cmd.argument !== "DROP") throw new RuleSetError("Bad policy name.");
      chain.policy = cmd.argument;
      return;
    }
    case "rename-chain":
      renameChain(table, cmd.chain!, cmd.argument!);
      return;
    case "list":
    case "list-rules":
    case "help":
    case "version":
      return;
  }
}

function zero(table: Table, chainName: string | null, ruleNumber: number | null): void {
  const chains = chainName === null ? [...table.chains.values()] : [chainOf(table, chainName)];
  for (const chain of chains) {
    if (ruleNumber !== null) {
      const rule = chain.rules[ruleNumber - 1];
      if (!rule) throw new RuleSetError(NO_SUCH_CHAIN);
      rule.counters.packets = 0;
      rule.counters.bytes = 0;
      continue;
    }
    chain.policyCounters.packets = 0;
    chain.policyCounters.bytes = 0;
    for (const rule of chain.rules) {
      rule.counters.packets = 0;
      rule.counters.bytes = 0;
    }
  }
}

/** The checks iptables makes on a new chain name before it asks the kernel. */
export function checkChainName(name: string): void {
  if (name.length > MAX_CHAIN_NAME) {
    throw new ParameterProblem(`chain name \`${name}' too long (must be under ${MAX_CHAIN_NAME + 1} chars)`);
  }
  if (name.startsWith("-") || name.startsWith("!")) {
    throw new ParameterProblem(`chain name not allowed to start with \`${name[0]}'\n`);
  }
  if (findTarget(name) || name === "ACCEPT" || name === "DROP" || name === "RETURN") {
    throw new ParameterProblem(`chain name may not clash with target name\n`);
  }
  if (/\s/.test(name) || name === "") throw new ParameterProblem(`Invalid chain name \`${name}'`);
}

function newChain(table: Table, name: string): void {
  checkChainName(name);
  if (table.chains.has(name)) throw new RuleSetError("Chain already exists.");
  table.chains.set(name, newUserChain(name));
}

function referenceCount(table: Table, name: string): number {
  let count = 0;
  for (const chain of table.chains.values()) for (const rule of chain.rules) if (jumpTarget(rule) === name) count++;
  return count;
}

function deleteChains(table: Table, name: string | null): void {
  if (name !== null) {
    const chain = table.chains.get(name);
    if (!chain) throw new RuleSetError(NO_SUCH_CHAIN);
    if (chain.hook !== null) throw new KernelRefusal("CHAIN_DEL", "Operation not permitted", `chain ${name}`, "built-in chains cannot be deleted");
    if (referenceCount(table, name) > 0) {
      throw new KernelRefusal("CHAIN_DEL", "Device or resource busy", `chain ${name}`, "the chain is still referenced");
    }
    if (chain.rules.length > 0) {
      throw new KernelRefusal("CHAIN_DEL", "Device or resource busy", `chain ${name}`, "the chain is not empty");
    }
    table.chains.delete(name);
    return;
  }
  // -X without a name deletes every user chain that nothing else refers to.
  for (const chain of [...table.chains.values()]) {
    if (chain.hook !== null) continue;
    const referencedFromOutside = [...table.chains.values()].some(
      (other) => other.name !== chain.name && other.rules.some((r) => jumpTarget(r) === chain.name),
    );
    if (referencedFromOutside) continue;
    table.chains.delete(chain.name);
  }
}

function renameChain(table: Table, from: string, to: string): void {
  const chain = table.chains.get(from);
  if (!chain || chain.hook !== null) throw new RuleSetError(NO_SUCH_CHAIN);
  checkChainName(to);
  if (table.chains.has(to)) throw new RuleSetError("File exists.");
  table.chains.delete(from);
  table.chains.set(to, { ...chain, name: to });
  for (const other of table.chains.values()) {
    other.rules = other.rules.map((rule) => {
      const target = rule.target;
      if ((target.kind === "jump" || target.kind === "goto") && target.chain === from) {
        return { ...rule, target: { kind: target.kind, chain: to } };
      }
      return rule;
    });
  }
}
