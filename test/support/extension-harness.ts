// What the extension tests share: add one rule to an empty rule set, read back its iptables-save
// text and its `iptables -L` lines, and the stderr iptables gives for a refusal.
import { expect } from "vitest";
import { RuleSet } from "../../src/core/rules/model.ts";
import { BACKEND, runIptables, runSave, VERSION } from "../../src/core/iptables/run.ts";

export const TAG = `uptables v${VERSION} (${BACKEND})`;
export const HINT = "Try `uptables -h' or 'uptables --help' for more information.\n";

/** A rule set with the one rule `-t TABLE -A CHAIN ARGS`, which must be accepted silently. */
export function appended(table: string, chain: string, args: readonly string[]): RuleSet {
  const rules = new RuleSet();
  const out = runIptables(rules, ["-t", table, "-A", chain, ...args]);
  expect(out.stderr).toBe("");
  expect(out.exitCode).toBe(0);
  return rules;
}

/** The rule lines of iptables-save for one table. */
export function saved(rules: RuleSet, table: string): string[] {
  return runSave(rules, { counters: false, table }).stdout.split("\n").filter((l) => l.startsWith("-A "));
}

/** The rule lines of `iptables -L CHAIN` (the two header lines dropped). */
export function listed(rules: RuleSet, table: string, chain: string, ...flags: string[]): string[] {
  const out = runIptables(rules, ["-t", table, "-L", chain, ...flags]);
  expect(out.exitCode).toBe(0);
  return out.stdout.split("\n").slice(2, -1);
}

/** iptables' stderr: a parameter problem (exit 2) ends with the help hint, a kernel refusal (exit 4) does not. */
export function expectedRefusal(exitCode: number, message: string): { stderr: string; exitCode: number } {
  return { stderr: exitCode === 2 ? `${TAG}: ${message}\n${HINT}` : `${TAG}: ${message}\n`, exitCode };
}
