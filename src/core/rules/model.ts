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
  /**
   * Whether the policy counters count (built-in chains only). iptables-nft 1.8.9 gives the nft
   * base chain a counter only when it sets the chain's policy or counters: -P, -Z, -L -Z, or a
   * restore's ":CHAIN" line. A chain created by -A/-I/-F CHAIN (or -F -v) has none, so its policy
   * shows [0:0] for ever (see `countPolicy`).
   */
  policyCounted: boolean;
  rules: Rule[];
}

export interface Table {
  readonly name: TableName;
  /**
   * The chains that exist, in the order they were created. A built-in chain exists only once a
   * command touched it: iptables-nft creates each base chain on first use (-A/-I/-P/-F CHAIN, -F -v,
   * a restore that names it), and `-X` can delete an empty one with policy ACCEPT again. An absent
   * built-in chain behaves as policy ACCEPT with no rules: no hook, so packets pass untouched.
   * Listings and iptables-save still show every built-in chain (see `listedChains`).
   */
  readonly chains: Map<string, Chain>;
}

export function newCounters(packets = 0, bytes = 0): Counters {
  return { packets, bytes };
}

export function newBuiltinChain(hook: Hook, policy: "ACCEPT" | "DROP" = "ACCEPT"): Chain {
  return { name: hook, hook, policy, policyCounters: newCounters(), policyCounted: false, rules: [] };
}

export function newUserChain(name: string): Chain {
  return { name, hook: null, policy: null, policyCounters: newCounters(), policyCounted: false, rules: [] };
}

/**
 * Gives a built-in chain its policy counter, as iptables-nft does whenever it sends the chain's
 * policy or counters to the kernel (-P, -Z, a restore's ":CHAIN" line); it stays until the chain
 * is deleted (-X, a restore flushing the table).
 */
export function countPolicy(chain: Chain): void {
  if (chain.hook !== null) chain.policyCounted = true;
}

/** A table as iptables-nft creates it: no chains yet. */
export function newTable(name: TableName): Table {
  return { name, chains: new Map() };
}

/** Whether `name` is one of the table's built-in chains (whether or not it exists yet). */
export function isBuiltinChainName(table: Table, name: string): name is Hook {
  return (BUILTIN_CHAINS[table.name] as readonly string[]).includes(name);
}

/** The built-in chain `hook`, created (policy ACCEPT, no rules) if it does not exist yet. */
export function ensureBuiltinChain(table: Table, hook: Hook): Chain {
  let chain = table.chains.get(hook);
  if (!chain) {
    chain = newBuiltinChain(hook);
    table.chains.set(hook, chain);
  }
  return chain;
}

/** Creates every built-in chain the table lacks (what `-F -v` and a restored table do). */
export function ensureAllBuiltinChains(table: Table): void {
  for (const hook of BUILTIN_CHAINS[table.name]) ensureBuiltinChain(table, hook);
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
      policyCounted: chain.policyCounted,
      rules: chain.rules.map((rule) => ({ ...rule, counters: { ...rule.counters } })),
    });
  }
  return { name: table.name, chains };
}

/** User chains sorted by name, as iptables lists and saves them. */
export function userChains(table: Table): Chain[] {
  return [...table.chains.values()].filter((c) => c.hook === null).sort((a, b) => compareChainNames(a.name, b.name));
}

/** The built-in chains that exist, in hook order. */
export function builtinChains(table: Table): Chain[] {
  const out: Chain[] = [];
  for (const hook of BUILTIN_CHAINS[table.name]) {
    const chain = table.chains.get(hook);
    if (chain && chain.hook !== null) out.push(chain);
  }
  return out;
}

/** The chains that exist: built-ins in hook order, then user chains by name (what the engine walks). */
export function chainsInOrder(table: Table): Chain[] {
  return [...builtinChains(table), ...userChains(table)];
}

/**
 * The chains as iptables lists and saves them: every built-in chain in hook order (one that does
 * not exist yet shown as policy ACCEPT, no rules, zero counters), then user chains by name.
 */
export function listedChains(table: Table): Chain[] {
  const builtins = BUILTIN_CHAINS[table.name].map((hook) => {
    const chain = table.chains.get(hook);
    return chain && chain.hook !== null ? chain : newBuiltinChain(hook);
  });
  return [...builtins, ...userChains(table)];
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

  /** The table, created (without chains) if it does not exist yet. */
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
