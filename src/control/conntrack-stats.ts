// `uptables conntrack -S` (--stats): the connection tracker's counters in conntrack-tools' format.
// conntrack-tools prints one line per CPU, `cpu=%-4u`, a tab, then the counters; the engine is one
// "CPU". clash_resolve and chaintoolong are always 0 here: one thread inserts, chains are not capped.
import type { ConntrackStats } from "../core/conntrack/table.ts";
import type { ControlReply } from "./protocol.ts";

/** Whether a conntrack command line asks for the counters (-S/--stats; other options are ignored, as conntrack does). */
export function isStatsCommand(args: readonly string[]): boolean {
  return args.includes("-S") || args.includes("--stats");
}

export function formatConntrackStats(s: ConntrackStats): string {
  return (
    `cpu=${"0".padEnd(4)}\tfound=${s.found} invalid=${s.invalid} insert=${s.insert} insert_failed=${s.insertFailed} ` +
    `drop=${s.drop} early_drop=${s.earlyDrop} error=${s.error} search_restart=${s.searchRestart} clash_resolve=0 chaintoolong=0 \n`
  );
}

export function runConntrackStats(stats: ConntrackStats): ControlReply {
  return { stdout: formatConntrackStats(stats), stderr: "", exitCode: 0 };
}
