// Table-driven checks for the non-NAT targets: each row is a command iptables 1.8.9 (nf_tables) was
// given in a scratch network namespace, with what it printed (iptables-save, -L -n, -L) or how it
// refused (message and exit code). The rows are replayed against uptables here.
import { describe, expect, it } from "vitest";
import { RuleSet } from "../../../../src/core/rules/model.ts";
import { BACKEND, runIptables, runSave, VERSION } from "../../../../src/core/iptables/run.ts";
import type { TableName } from "../../../../src/core/rules/tables.ts";

export const TAG = `uptables v${VERSION} (${BACKEND})`;
export const HINT = "Try `uptables -h' or 'uptables --help' for more information.\n";

/** [table, chain, arguments after "-A CHAIN", iptables-save after "-A CHAIN ", -L -n rule line, -L rule line] */
export type AcceptedRow = readonly [TableName, string, readonly string[], string, string, string];
/** [table, chain, arguments, iptables' message between its version tag and its hint, exit code] */
export type RefusedRow = readonly [TableName, string, readonly string[], string, number];

export function savedRules(rules: RuleSet, table: TableName): string[] {
  return runSave(rules, { counters: false, table }).stdout.split("\n").filter((l) => l.startsWith("-A "));
}

export function listedRules(rules: RuleSet, table: TableName, chain: string, numeric: boolean): string[] {
  const out = runIptables(rules, ["-t", table, "-L", chain, ...(numeric ? ["-n"] : [])]);
  expect(out.exitCode).toBe(0);
  return out.stdout.split("\n").slice(2, -1);
}

/** Runs `setup` (each an argument list for the table) and then appends the rule; fails on any error. */
export function appended(table: TableName, chain: string, args: readonly string[], setup: readonly (readonly string[])[] = []): RuleSet {
  const rules = new RuleSet();
  for (const step of setup) expect(runIptables(rules, ["-t", table, ...step]).exitCode).toBe(0);
  const out = runIptables(rules, ["-t", table, "-A", chain, ...args]);
  expect(out.stderr).toBe("");
  expect(out.exitCode).toBe(0);
  return rules;
}

/** The stderr uptables must print for a refusal iptables answered with `message` and `exitCode`. */
export function expectedStderr(message: string, exitCode: number): string {
  return exitCode === 2 ? `${TAG}: ${message}${HINT}` : `${TAG}: ${message}`;
}

/** The option data the rule's target carries. */
export function targetData<T>(rules: RuleSet, table: TableName, chain: string, index = 0): T {
  const target = rules.tables.get(table)!.chains.get(chain)!.rules[index]!.target;
  if (target.kind !== "extension") throw new Error(`rule ${index} of ${chain} has no target extension`);
  return target.data as T;
}

export function acceptedRows(title: string, rows: readonly AcceptedRow[]): void {
  describe(title, () => {
    for (const [table, chain, args, save, numericLine, line] of rows) {
      it(`${table} ${chain} ${args.join(" ")}`, () => {
        const rules = appended(table, chain, args);
        expect(savedRules(rules, table)).toEqual([`-A ${chain} ${save}`]);
        expect(listedRules(rules, table, chain, true)).toEqual([numericLine]);
        expect(listedRules(rules, table, chain, false)).toEqual([line]);
        // -S prints the rule as iptables-save does.
        const spec = runIptables(rules, ["-t", table, "-S", chain]);
        expect(spec.stdout.split("\n")).toContain(`-A ${chain} ${save}`);
      });
    }
  });
}

export function refusedRows(title: string, rows: readonly RefusedRow[]): void {
  describe(title, () => {
    for (const [table, chain, args, message, exitCode] of rows) {
      it(`${table} ${chain} ${args.join(" ")}`, () => {
        const rules = new RuleSet();
        const out = runIptables(rules, ["-t", table, "-A", chain, ...args]);
        expect(out.stderr).toBe(expectedStderr(message, exitCode));
        expect(out.exitCode).toBe(exitCode);
        expect(savedRules(rules, table)).toEqual([]);
      });
    }
  });
}
