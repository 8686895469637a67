// Where uptables differs from the kernel's iptables on purpose. Every entry says which comparison it
// covers and why; a difference not listed here fails the differential test. Keep entries narrow:
// a command pattern, and the scenario when the difference only shows there.
import type { Difference } from "./harness.ts";

// A note on host names: iptables resolves names with the C library (/etc/hosts, /etc/networks,
// then DNS); uptables knows only the names Debian's /etc/hosts and /etc/networks give
// (localhost, loopback, default, link-local) and never asks DNS, refusing other names with
// iptables' own "host/network `NAME' not found". In the test's network namespace DNS cannot
// answer either, so both agree and no entry is needed; on a host with DNS they would differ.

export interface AllowedDifference {
  /** Why uptables differs: shown in the report next to every difference it covers. */
  readonly reason: string;
  /** The scenario's name; any scenario when absent. */
  readonly scenario?: string;
  /** The command line ("iptables ...") or listing ("iptables-save", "iptables -t nat -L") it covers. */
  readonly what: RegExp;
  /** "command" or "output"; both when absent. */
  readonly kind?: Difference["kind"];
}

export const ALLOWED_DIFFERENCES: readonly AllowedDifference[] = [
  {
    scenario: "intended: interface names with a blank",
    what: /-i 'eth 0'|^iptables(-save| -t)/,
    reason:
      "iptables-nft takes an interface name with a blank (it only warns), then prints it unquoted in " +
      "iptables-save, where iptables-restore splits it: uptables refuses such names so that every rule set it " +
      "holds can be saved and restored (the kernel never has such an interface anyway).",
  },
  {
    scenario: "intended: counters beyond 2^53",
    what: /-c |^iptables(-save| -t)/,
    reason:
      "uptables counts in JavaScript numbers, exact up to 2^53-1; iptables takes any 64-bit count with -c " +
      "(and wraps -1 round to 2^64-1), uptables refuses counts it cannot hold exactly.",
  },
  {
    scenario: "intended: the security table",
    what: /-t security|^iptables-save/,
    reason: "uptables has no security table (SELinux MAC marking); it refuses it as iptables refuses an unknown table.",
  },
  {
    scenario: "intended: help",
    what: /(^| )(-h|--help)( |$)/,
    reason: "uptables -h describes uptables (its --wait and --ruleset FILE), not iptables' own extensions.",
  },
  {
    what: /(^| )-vv+( |$)|(^| )-v -v( |$)/,
    kind: "command",
    reason: "with -vv and more, iptables-nft dumps the nftables netlink messages it sends; uptables has none to show.",
  },
  {
    scenario: "intended: renaming a built-in chain",
    what: /-E INPUT MYINPUT|^iptables(-save| -t)/,
    reason:
      "iptables-nft renames the base chain itself and can then no longer list it (\"incompatible, use 'nft' " +
      "tool\"), though it still filters; uptables refuses to rename a built-in chain instead.",
  },
  {
    scenario: "intended: renaming to a name iptables-restore refuses",
    what: /-E A a2345|^iptables(-save| -t)/,
    reason:
      "iptables-nft's -E takes a new name of any length (nftables allows 255), which its own iptables-restore " +
      "then refuses (28 at most): uptables keeps the 28-character limit of -N so its rule sets stay restorable.",
  },
  {
    scenario: "intended: QUEUE and targets uptables does not implement",
    what: /-j QUEUE/,
    reason:
      "QUEUE (and NFQUEUE, TEE) hand packets to another program or copy them elsewhere; uptables does not " +
      "implement them and says so rather than accept a rule it cannot carry out.",
  },
  {
    scenario: "intended: a match given twice that nftables shows as one",
    what: /-C INPUT|^iptables(-save| -t)/,
    reason:
      "iptables-nft turns tcp port matches into nftables payload comparisons and, reading them back, shows " +
      "two tcp matches of one rule as a single one; uptables keeps the two matches as given.",
  },
];

/** The reason a difference is intended, or null when it is a real disagreement. */
export function allowedReason(d: Omit<Difference, "allowed">): string | null {
  for (const entry of ALLOWED_DIFFERENCES) {
    if (entry.scenario !== undefined && entry.scenario !== d.scenario) continue;
    if (entry.kind !== undefined && entry.kind !== d.kind) continue;
    if (!entry.what.test(d.what)) continue;
    return entry.reason;
  }
  return null;
}
