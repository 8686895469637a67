// What the kernel (nf_tables, which iptables-nft 1.8.9 drives) checks when rules are committed:
//
// - when a rule is added: a jump or goto must name a chain that exists (ENOENT) and is not a base
//   chain (EOPNOTSUPP); an inverted -s/-d with a /0 mask is a zero-length comparison the kernel
//   refuses (EINVAL); a match or target must be allowed in the table (EINVAL);
// - then the whole table is walked from each base chain: a chain reached 16 jumps deep is refused
//   (EMLINK, NFT_JUMP_STACK_SIZE), which is also how a loop of jumps is refused; and every match and
//   target must accept each hook it is reached from (EINVAL, e.g. DNAT only from PREROUTING/OUTPUT).
//   Chains no base chain reaches are not walked: loops among them are accepted, as nf_tables does.
import type { Hook } from "./hooks.ts";
import type { Chain, Rule, Table } from "./model.ts";
import { builtinChains } from "./model.ts";

export type KernelErrno =
  | "Invalid argument"
  | "No such file or directory"
  | "Operation not supported"
  | "Too many links";

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

/** The checks made on one rule as the kernel takes it in, before the table is walked. */
export function checkNewRule(table: Table, rule: Rule): { errno: KernelErrno; reason: string } | null {
  for (const address of [rule.source, rule.destination]) {
    if (address && address.inverted && address.mask === 0) {
      return { errno: "Invalid argument", reason: "an inverted address with a /0 mask compares zero bytes" };
    }
  }
  const uses = [...rule.matches.map((m) => ({ ext: m.ext, data: m.data }))];
  if (rule.target.kind === "extension") uses.push({ ext: rule.target.ext as never, data: rule.target.data });
  for (const { ext } of uses) {
    if (ext.tables && !ext.tables.includes(table.name)) {
      return { errno: "Invalid argument", reason: `${ext.name} is not valid in the ${table.name} table` };
    }
  }
  const target = rule.target;
  if (target.kind === "jump" || target.kind === "goto") {
    const chain = table.chains.get(target.chain);
    if (!chain) return { errno: "No such file or directory", reason: `chain ${target.chain} does not exist` };
    if (chain.hook !== null) return { errno: "Operation not supported", reason: `cannot jump to the base chain ${target.chain}` };
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

function checkHooksOfRule(rule: Rule, hook: Hook): string | null {
  const uses = rule.matches.map((m) => ({ ext: m.ext, data: m.data as unknown }));
  if (rule.target.kind === "extension") uses.push({ ext: rule.target.ext as never, data: rule.target.data });
  for (const { ext, data } of uses) {
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
