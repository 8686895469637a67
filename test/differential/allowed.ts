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
  /**
   * "intended": uptables differs on purpose. "extension": a known difference in a match or target
   * that its author has to settle (usually iptables 1.8.9 against the later iptables whose .t files
   * the extension follows); reported apart, and to be removed once settled. Default "intended".
   */
  readonly category?: "intended" | "extension";
  /** The scenario's name; any scenario when absent. */
  readonly scenario?: string;
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
      "iptables-nft's -E takes any new name (nftables allows 255 characters, blanks too), which its own " +
      "iptables-restore then refuses (28 at most) or splits at the blank: uptables keeps -N's limits there so " +
      "its rule sets stay restorable.",
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
  ...["iptables .t: libxt_NOTRACK", "extension in use: CT, NOTRACK, TRACE, CHECKSUM, TCPMSS"].map(
    (scenario): AllowedDifference => ({
      category: "extension",
      scenario,
      what: /^iptables -t raw -L/,
      kind: "output",
      reason:
        "targets/NOTRACK.ts: NOTRACK is an alias of CT, and iptables -L shows \"CT\" in the target column; " +
        "NOTRACK.ts should set `realName: \"CT\"` (extension.ts has the field now).",
    }),
  ),
  {
    category: "extension",
    scenario: "extension in use: limit, mac, mark, connmark, iprange, addrtype",
    what: /--src-range 10\.0\.0\.9-10\.0\.0\.1/,
    reason:
      "matches/iprange.ts: for a reversed range iptables 1.8.9 warns on stderr \"xt_iprange: range A-B is reversed " +
      "and will never match\"; iprange.ts can now do the same through the `warn` of its finalCheck context.",
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
    if (entry.scenario !== undefined && entry.scenario !== d.scenario) continue;
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
