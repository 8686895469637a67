// Carries out one control request on a rule set (and, for conntrack, an engine). The same code
// serves the rule-set file backend and the daemon, so both print the same.
import type { Netfilter } from "../core/engine/netfilter.ts";
import { runIptables, runRestore, runSave, type Outcome } from "../core/iptables/run.ts";
import { versionTag } from "../core/iptables/version.ts";
import type { RuleSet } from "../core/rules/model.ts";
import { runConntrack } from "./conntrack.ts";
import { isStatsCommand, runConntrackStats } from "./conntrack-stats.ts";
import type { ControlReply, ControlRequest } from "./protocol.ts";

/** iptables / save / restore on `rules` (changed in place when the command succeeds). */
export function applyRuleRequest(rules: RuleSet, request: Exclude<ControlRequest, { op: "conntrack" } | { op: "stats" }>): Outcome {
  switch (request.op) {
    case "iptables":
      return runIptables(rules, request.argv, "uptables");
    case "save": {
      const banner = request.date === undefined ? undefined : { generatedBy: versionTag("uptables-save"), date: request.date };
      return runSave(rules, { counters: request.counters, table: request.table }, banner);
    }
    case "restore":
      return runRestore(rules, request.text, request.options, "uptables-restore");
  }
}

/**
 * A request against a live engine: the rule set is changed, then compiled into the engine; when
 * the engine refuses the new rules, the rule set goes back to what it was (nothing changed).
 */
export function applyToEngine(rules: RuleSet, engine: Netfilter, request: ControlRequest, now: number): ControlReply {
  if (request.op === "conntrack" && isStatsCommand(request.args)) return runConntrackStats(engine.conntrack.table.stats);
  if (request.op === "conntrack") return runConntrack(engine.conntrack.table, request.args, now);
  if (request.op === "stats") return { stdout: "", stderr: "uptables: no daemon status here\n", exitCode: 1 };
  // Commands replace whole tables (copy, change, swap), so the old table objects are a snapshot.
  const before = new Map(rules.tables);
  const outcome = applyRuleRequest(rules, request);
  if (outcome.changed) {
    try {
      engine.load(rules);
    } catch (error) {
      rules.tables.clear();
      for (const [name, table] of before) rules.tables.set(name, table);
      return {
        stdout: "",
        stderr: `uptables: the daemon cannot run the new rules, nothing changed: ${(error as Error).message}\n`,
        exitCode: 1,
      };
    }
  }
  return { stdout: outcome.stdout, stderr: outcome.stderr, exitCode: outcome.exitCode };
}
