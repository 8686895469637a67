// One in-memory model of what iptables manages: tables, chains, rules and their counters.
import type { MatchExtension, TargetExtension } from "../extensions/extension.ts";
import { BUILTIN_CHAINS, type TableName } from "./tables.ts";
import type { Hook } from "./hooks.ts";

export interface Counters {
  packets: number;
  bytes: number;
}

/** `-s`/`-d`: address and mask are stored masked, as the kernel keeps them. */
export interface AddressMatch {
  readonly addr: number;
  readonly mask: number;
  readonly inverted: boolean;
}

/** `-i`/`-o`: a name, or a prefix when it ends in "+". */
export interface InterfaceMatch {
  readonly name: string;
  readonly inverted: boolean;
}

export interface MatchUse {
  readonly ext: MatchExtension;
  readonly data: unknown;
}

export type Verdict = "ACCEPT" | "DROP" | "RETURN";

export type RuleTarget =
  | { readonly kind: "none" }
  | { readonly kind: "verdict"; readonly verdict: Verdict }
  | { readonly kind: "jump"; readonly chain: string }
  | { readonly kind: "goto"; readonly chain: string }
  | { readonly kind: "extension"; readonly ext: TargetExtension; readonly data: unknown };

/** A rule is immutable once parsed, except for its counters. */
export interface Rule {
  readonly source: AddressMatch | null;
  readonly destination: AddressMatch | null;
  readonly inInterface: InterfaceMatch | null;
  readonly outInterface: InterfaceMatch | null;
  /** 0 means any protocol ("all"). */
  readonly protocol: number;
  readonly protocolInverted: boolean;
  /** `-f` (second and further fragments), with its inversion; null when not given. */
  readonly fragment: { readonly inverted: boolean } | null;
  readonly matches: readonly MatchUse[];
  readonly target: RuleTarget;
  readonly counters: Counters;
}

export interface Chain {
  readonly name: string;
  /** The hook of a built-in chain; null for user chains. */
  readonly hook: Hook | null;
  /** Built-in chains only. */
  policy: "ACCEPT" | "DROP" | null;
  /** Packets that fell off the end of a built-in chain and took its policy. */
  readonly policyCounters: Counters;
  rules: Rule[];
}

export interface Table {
  readonly name: TableName;
  /** Built-in chains first, in hook order; user chains after them. */
  readonly chains: Map<string, Chain>;
}

export function newCounters(packets = 0, bytes = 0): Counters {
  return { packets, bytes };
}

export function newBuiltinChain(hook: Hook, policy: "ACCEPT" | "DROP" = "ACCEPT"): Chain {
  return { name: hook, hook, policy, policyCounters: newCounters(), rules: [] };
}

export function newUserChain(name: string): Chain {
  return { name, hook: null, policy: null, policyCounters: newCounters(), rules: [] };
}

export function newTable(name: TableName): Table {
  const chains = new Map<string, Chain>();
  for (const hook of BUILTIN_CHAINS[name]) chains.set(hook, newBuiltinChain(hook));
  return { name, chains };
}

/** A copy whose chains, rule lists and counters can change without touching the original. */
export function cloneTable(table: Table): Table {
  const chains = new Map<string, Chain>();
  for (const [name, chain] of table.chains) {
    chains.set(name, {
      name: chain.name,
      hook: chain.hook,
      policy: chain.policy,
      policyCounters: { ...chain.policyCounters },
      rules: chain.rules.map((rule) => ({ ...rule, counters: { ...rule.counters } })),
    });
  }
  return { name: table.name, chains };
}

/** User chains sorted by name, as iptables lists and saves them. */
export function userChains(table: Table): Chain[] {
  return [...table.chains.values()].filter((c) => c.hook === null).sort((a, b) => compareChainNames(a.name, b.name));
}

export function builtinChains(table: Table): Chain[] {
  return [...table.chains.values()].filter((c) => c.hook !== null);
}

/** Chains in the order iptables prints them: built-ins in hook order, then user chains by name. */
export function chainsInOrder(table: Table): Chain[] {
  return [...builtinChains(table), ...userChains(table)];
}

function compareChainNames(a: string, b: string): number {
  // strcmp order: byte-wise, not locale-aware.
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The whole rule set of one network namespace: the tables that exist (iptables-nft creates a
 * table the first time a command changes it, and only those are saved).
 */
export class RuleSet {
  readonly tables = new Map<TableName, Table>();

  /** The table, created with its built-in chains if it does not exist yet. */
  table(name: TableName): Table {
    let table = this.tables.get(name);
    if (!table) {
      table = newTable(name);
      this.tables.set(name, table);
    }
    return table;
  }

  clone(): RuleSet {
    const copy = new RuleSet();
    for (const [name, table] of this.tables) copy.tables.set(name, cloneTable(table));
    return copy;
  }

  /** Replaces this rule set's content with another's (used to commit a transaction). */
  replaceWith(other: RuleSet): void {
    this.tables.clear();
    for (const [name, table] of other.tables) this.tables.set(name, table);
  }
}
