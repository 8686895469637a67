// What the kernel checks when a table is committed: every jump leads to an existing user chain,
// jumps never loop, and each match and target is used only in tables and hooks it supports
// (DNAT only where PREROUTING or OUTPUT reaches it, and so on).
import type { Hook } from "./hooks.ts";
import type { Chain, Rule, Table } from "./model.ts";

export interface TableProblem {
  /** The chain of the offending rule. */
  readonly chain: string;
  /** The offending rule's 0-based index. */
  readonly ruleIndex: number;
  /** The errno the kernel answers with. */
  readonly errno: "Invalid argument" | "Too many levels of symbolic links" | "No such file or directory";
  /** Why, in words, for people and logs. */
  readonly reason: string;
}

/** The built-in hooks from which each chain can be reached; chains nobody reaches get an empty set. */
export function hooksReaching(table: Table): Map<string, Set<Hook>> {
  const reach = new Map<string, Set<Hook>>();
  for (const chain of table.chains.values()) reach.set(chain.name, new Set());
  for (const chain of table.chains.values()) {
    if (chain.hook === null) continue;
    const stack: string[] = [chain.name];
    const visited = new Set<string>();
    while (stack.length > 0) {
      const name = stack.pop()!;
      if (visited.has(name)) continue;
      visited.add(name);
      reach.get(name)?.add(chain.hook);
      const current = table.chains.get(name);
      if (!current) continue;
      for (const rule of current.rules) {
        const target = rule.target;
        if (target.kind === "jump" || target.kind === "goto") stack.push(target.chain);
      }
    }
  }
  return reach;
}

/** The first jump that closes a loop, found by depth-first search from every chain. */
function findLoop(table: Table): { chain: string; ruleIndex: number } | null {
  const state = new Map<string, "active" | "done">();
  const visit = (chain: Chain): { chain: string; ruleIndex: number } | null => {
    state.set(chain.name, "active");
    for (let i = 0; i < chain.rules.length; i++) {
      const target = chain.rules[i]!.target;
      if (target.kind !== "jump" && target.kind !== "goto") continue;
      const next = table.chains.get(target.chain);
      if (!next) continue;
      const seen = state.get(next.name);
      if (seen === "active") return { chain: chain.name, ruleIndex: i };
      if (seen === undefined) {
        const found = visit(next);
        if (found) return found;
      }
    }
    state.set(chain.name, "done");
    return null;
  };
  for (const chain of table.chains.values()) {
    if (!state.has(chain.name)) {
      const found = visit(chain);
      if (found) return found;
    }
  }
  return null;
}

function checkRule(table: Table, rule: Rule, hooks: ReadonlySet<Hook>): string | null {
  const target = rule.target;
  if (target.kind === "jump" || target.kind === "goto") {
    const chain = table.chains.get(target.chain);
    if (!chain) return `chain ${target.chain} does not exist`;
    if (chain.hook !== null) return `cannot jump to built-in chain ${target.chain}`;
  }
  const uses = rule.matches.map((m) => ({ ext: m.ext, data: m.data as unknown }));
  if (target.kind === "extension") uses.push({ ext: target.ext as never, data: target.data });
  for (const { ext, data } of uses) {
    if (ext.tables && !ext.tables.includes(table.name)) {
      return `${ext.name} is not valid in the ${table.name} table`;
    }
    if (ext.hooks) {
      for (const hook of hooks) {
        if (!ext.hooks.includes(hook)) return `${ext.name} cannot be used from ${hook} (only ${ext.hooks.join(", ")})`;
      }
    }
    const reason = ext.checkHooks?.(data, hooks);
    if (reason) return reason;
  }
  return null;
}

/** The first problem the kernel would refuse the table for, or null. */
export function validateTable(table: Table): TableProblem | null {
  const loop = findLoop(table);
  if (loop) {
    return { ...loop, errno: "Too many levels of symbolic links", reason: "the jumps of this rule form a loop" };
  }
  const reach = hooksReaching(table);
  for (const chain of table.chains.values()) {
    const hooks = reach.get(chain.name) ?? new Set<Hook>();
    for (let i = 0; i < chain.rules.length; i++) {
      const reason = checkRule(table, chain.rules[i]!, hooks);
      if (reason) return { chain: chain.name, ruleIndex: i, errno: "Invalid argument", reason };
    }
  }
  return null;
}
