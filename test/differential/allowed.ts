// Where uptables differs from the kernel's iptables on purpose. Every entry says which comparison it
// covers and why; a difference not listed here fails the differential test. Keep entries narrow:
// a command pattern, and the scenario when the difference only shows there.
import type { Difference } from "./harness.ts";
import { LATER } from "./restore-cases.ts";

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

// A note on host names: iptables resolves names with the C library (/etc/hosts, /etc/networks,
// then DNS); uptables knows only the names Debian's /etc/hosts and /etc/networks give
// (localhost, loopback, default, link-local) and never asks DNS, refusing other names with
// iptables' own "host/network `NAME' not found". In the test's network namespace DNS cannot
// answer either, so both agree and no entry is needed; on a host with DNS they would differ.

export interface AllowedDifference {
  /** Why uptables differs: shown in the report next to every difference it covers. */
  readonly reason: string;
  /**
   * "intended": uptables differs on purpose. "extension": a known difference in a match or target
   * that its author has to settle (usually iptables 1.8.9 against the later iptables whose .t files
   * the extension follows); reported apart, and to be removed once settled. Default "intended".
   */
  readonly category?: "intended" | "extension";
  /** The scenario's name, or a pattern of names; any scenario when absent. */
  readonly scenario?: string | RegExp;
  /** The command line ("iptables ...") or listing ("iptables-save", "iptables -t nat -L") it covers. */
  readonly what: RegExp;
  /** "command" or "output"; both when absent. */
  readonly kind?: Difference["kind"];
}

export const ALLOWED_DIFFERENCES: readonly AllowedDifference[] = [
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
    what: /-E |^iptables(-save| -t)/,
    reason:
      "iptables-nft's -E takes any new name (nftables allows 255 characters, blanks too, \"\" or a target's " +
      "name), which its own iptables-restore then refuses (28 at most), splits at the blank, or reads as the " +
      "target (a jump to a chain ACCEPT saves as -j ACCEPT): uptables keeps -N's limits there so its rule sets " +
      "stay restorable with the same meaning.",
  },
  // ---- iptables-restore and iptables-save ----
  {
    // Not for -t, which commits nothing on either side.
    scenario: new RegExp(`^restore(?! -t).*${escapeRegExp(LATER)}$`),
    what: /^iptables(-save| -t)/,
    reason:
      "iptables-nft's iptables-restore commits each table at its COMMIT, so a file refused in a later table leaves " +
      "the tables before it applied; uptables-restore applies the whole file or nothing (the refusal itself agrees).",
  },
  {
    scenario: /^restore( -[nt])?: the security table/,
    what: /^iptables-restore|^iptables(-save| -t)/,
    reason: "uptables has no security table (SELinux MAC marking); uptables-restore refuses \"*security\" as an unknown table.",
  },
  {
    scenario: /^restore( -[nt])?: policy counters negative$/,
    what: /^iptables-restore|^iptables(-save| -t)/,
    reason:
      "uptables counts in JavaScript numbers, exact up to 2^53-1; iptables-restore -c takes [-1:500] as 2^64-1 " +
      "packets, uptables-restore refuses counts it cannot hold exactly.",
  },
  {
    scenario: /^restore( -n)?: a -R line$/,
    what: /^iptables-restore|^iptables(-save| -t)/,
    reason:
      "iptables-nft's iptables-restore crashes (SIGSEGV, exit 139) on -R of a rule in a chain the same file " +
      "declared (without -n, in any chain: it has no cache of the rules to replace); uptables-restore replaces the " +
      "rule as asked.",
  },
  {
    scenario: /^restore: an -F line for all chains$|^restore( -n)?: a -Z line$/,
    what: /^iptables(-save| -t)/,
    reason:
      "iptables-nft's iptables-restore works from its cache of the rule set as it was before the file (an empty " +
      "one without -n): a bare -F flushes none of the rules the file added, and -Z sets the built-in chains' " +
      "policies back to the ones from before the file while zeroing; uptables flushes and zeroes what the table " +
      "holds at that line.",
  },
  {
    scenario: "restore -v: what it prints",
    what: /^iptables(-save| -t)/,
    reason:
      "iptables-nft's iptables-restore -v (without -n) empties a table chain by chain instead of deleting it, and a " +
      "built-in chain the file then adds a rule to comes back with policy ACCEPT, whatever it had; uptables keeps " +
      "the policy (the messages printed agree).",
  },
  {
    scenario: /^restore( -n)?: an -[LS] line$/,
    what: /^iptables-restore( -n)?$/,
    kind: "command",
    reason:
      "-L/-S inside iptables-nft's iptables-restore list the policies the chains had before the file (the new ones " +
      "wait in the batch) beside the rules added so far; uptables lists the policies the file set too.",
  },
  {
    scenario: /^restore( -[nt])?: a -h line$/,
    what: /^iptables-restore/,
    kind: "command",
    reason: "-h inside a restore file prints the help text, which describes uptables (its --wait and --ruleset FILE).",
  },
  {
    scenario: "restore: command-line options",
    what: /^iptables-restore (-h|--help)$/,
    kind: "command",
    reason: "uptables-restore's usage also lists --ruleset=<FILE>, where uptables keeps its rule set.",
  },
  {
    scenario: "restore -t: a user chain named like a target",
    what: /^iptables-restore -t$/,
    kind: "command",
    reason:
      "with -t, iptables-nft never commits, and a chain declared in one table (\":DNAT\") stays in its cache, so " +
      "\"-j DNAT --to-destination\" in a later table is read as a jump to that chain (\"unknown option\"); " +
      "uptables reads the DNAT target, which is what the same file without -t gets from iptables too.",
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

// Known differences in extensions other parts of the project own. Each names the file; the
// authors decide whether to follow iptables 1.8.9 (what the kernel's iptables here does) or the
// later iptables of the .t corpus, and remove the entry when they have.
export const KNOWN_EXTENSION_DIFFERENCES: readonly AllowedDifference[] = [
  {
    category: "extension",
    scenario: "iptables .t: libxt_udp",
    what: /--[sd]port 4:3|^iptables(-save| -t)/,
    reason:
      "matches/udp.ts: iptables 1.8.9 accepts a reversed udp port range (--sport 4:3, a rule that never matches); " +
      "the .t file (a later iptables) and udp.ts refuse it with \"invalid portrange (min > max)\".",
  },
  {
    category: "extension",
    scenario: "iptables .t: libxt_conntrack",
    what: /--ctexpire 4:3|--ct(orig|repl)(src|dst)port 4:3|--ctproto 0|^iptables(-save| -t)/,
    reason:
      "matches/conntrack.ts: iptables 1.8.9 accepts reversed ranges (--ctexpire 4:3, --ctorigsrcport 4:3 ...) and " +
      "--ctproto 0 / ! --ctproto 0; the .t file (a later iptables) and conntrack.ts refuse them.",
  },
  {
    category: "extension",
    scenario: "iptables .t: libipt_icmp",
    what: /^iptables(-save| -t)/,
    reason: "matches/icmp.ts: iptables 1.8.9 saves --icmp-type 255/255 as \"any\"; icmp.ts (after the .t file) saves 255/255.",
  },
  {
    category: "extension",
    scenario: "iptables .t: libxt_tcp",
    what: /^iptables(-save| -t)/,
    reason:
      "matches/tcp.ts: iptables-nft 1.8.9 drops a port range covering every port even when inverted (! --sport 0:65535 " +
      "leaves just -p tcp); the .t file (a later iptables) keeps \"-m tcp ! --sport 0:65535\", and tcp.ts follows it.",
  },
];

/** The entry that allows a difference, or null when it is a real disagreement. */
export function allowedEntry(d: Omit<Difference, "allowed" | "category">): AllowedDifference | null {
  for (const entry of [...ALLOWED_DIFFERENCES, ...KNOWN_EXTENSION_DIFFERENCES]) {
    if (typeof entry.scenario === "string" && entry.scenario !== d.scenario) continue;
    if (entry.scenario instanceof RegExp && !entry.scenario.test(d.scenario)) continue;
    if (entry.kind !== undefined && entry.kind !== d.kind) continue;
    if (!entry.what.test(d.what)) continue;
    return entry;
  }
  return null;
}

/** The reason a difference is allowed, or null when it is a real disagreement. */
export function allowedReason(d: Omit<Difference, "allowed" | "category">): string | null {
  return allowedEntry(d)?.reason ?? null;
}
