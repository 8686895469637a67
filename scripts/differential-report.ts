// Figures of the differential test (uptables against the kernel's iptables), for people:
//   npx tsx scripts/differential-report.ts [--verbose] [--allowed] [FILTER]
// prints commands agreeing/total, outputs agreeing/total, iptables-restore cases agreeing/total
// (result and the rule set left both agree), the scenarios still waiting for an extension, and
// every difference (allowed ones too with --allowed). FILTER keeps the scenarios whose name
// contains it. Needs root, `ip` and iptables, like the test.
import { destroyAllNetns, kernelTestProblem } from "../test/support/netns.ts";
import { commandCount, SCENARIOS } from "../test/differential/commands.ts";
import { describeDifference, runScenario, type Difference, type ScenarioResult } from "../test/differential/harness.ts";

const args = process.argv.slice(2);
const showAllowed = args.includes("--allowed");
const verbose = args.includes("--verbose");
const filter = args.find((a) => !a.startsWith("--"));

const problem = kernelTestProblem();
if (problem) {
  console.error(`differential report: cannot compare with the kernel here: ${problem}`);
  process.exit(2);
}

const started = Date.now();
const results: ScenarioResult[] = [];
try {
  for (const scenario of SCENARIOS) {
    if (filter && !scenario.name.includes(filter)) continue;
    const result = runScenario(scenario);
    results.push(result);
    if (verbose) {
      const bad = result.differences.filter((d) => d.allowed === null).length;
      console.log(`${bad === 0 ? "ok  " : "DIFF"} ${scenario.name}${result.pendingFrom !== null ? " (pending)" : ""}`);
    }
  }
} finally {
  destroyAllNetns();
}

const sum = (f: (r: ScenarioResult) => number): number => results.reduce((n, r) => n + f(r), 0);
const commandsTotal = sum((r) => r.scenario.commands.length);
const commandsCompared = sum((r) => r.commandsCompared);
const commandsAgreeing = sum((r) => r.commandsAgreeing);
const outputsCompared = sum((r) => r.outputsCompared);
const outputsAgreeing = sum((r) => r.outputsAgreeing);
const restoreCases = sum((r) => r.restoreCases);
const restoreCasesAgreeing = sum((r) => r.restoreCasesAgreeing);
const differences = results.flatMap((r) => r.differences);
const allowed = differences.filter((d) => d.category === "intended");
const extension = differences.filter((d) => d.category === "extension");
const real = differences.filter((d) => d.allowed === null);
const pending = results.filter((r) => r.pendingFrom !== null);

const pct = (a: number, b: number): string => (b === 0 ? "-" : `${((100 * a) / b).toFixed(1)}%`);
console.log("");
if (real.length > 0) {
  console.log(`Differences (${real.length}):\n`);
  for (const d of real) console.log(`${describeDifference(d)}\n`);
}
if (extension.length > 0) {
  console.log(`Known differences in extensions, for their authors (${extension.length}, allowed.ts KNOWN_EXTENSION_DIFFERENCES):\n`);
  const byReason = new Map<string, number>();
  for (const d of extension) byReason.set(d.allowed!, (byReason.get(d.allowed!) ?? 0) + 1);
  for (const [reason, n] of byReason) console.log(`  ${n} x ${reason}`);
  console.log("");
  if (showAllowed) for (const d of extension) console.log(`${describeDifference(d)}\n`);
}
if (allowed.length > 0) {
  console.log(`Intended differences (${allowed.length}, allowed.ts ALLOWED_DIFFERENCES):\n`);
  const byReason = new Map<string, number>();
  for (const d of allowed) byReason.set(d.allowed!, (byReason.get(d.allowed!) ?? 0) + 1);
  for (const [reason, n] of byReason) console.log(`  ${n} x ${reason}`);
  console.log("");
  if (showAllowed) for (const d of allowed) console.log(`${describeDifference(d)}\n`);
}
if (pending.length > 0) {
  console.log(`Scenarios waiting for extensions uptables does not have yet (${pending.length}):`);
  for (const r of pending) {
    console.log(`  ${r.scenario.name}: from command ${r.pendingFrom} of ${r.scenario.commands.length}, needs ${r.pending.join(", ")}`);
  }
  console.log("");
}
const count = (kind: Difference["kind"], category: "intended" | "extension" | null): number =>
  differences.filter((d) => d.kind === kind && d.category === category).length;
console.log(`Scenarios: ${results.length} (${SCENARIOS.length} defined, ${commandCount()} command lines in all)`);
console.log(
  `Commands agreeing: ${commandsAgreeing}/${commandsCompared} (${pct(commandsAgreeing, commandsCompared)}); ` +
    `differing: ${count("command", "intended")} intended, ${count("command", "extension")} known in extensions, ${count("command", null)} real` +
    (commandsTotal > commandsCompared ? `; ${commandsTotal - commandsCompared} not compared (after a command needing a missing extension)` : ""),
);
console.log(
  `Outputs agreeing:  ${outputsAgreeing}/${outputsCompared} (${pct(outputsAgreeing, outputsCompared)}); ` +
    `differing: ${count("output", "intended")} intended, ${count("output", "extension")} known in extensions, ${count("output", null)} real\n` +
    "                   [outputs: iptables-save and the -L -n, -L -n -v -x --line-numbers, -L, -L -v and -S of each table]",
);
console.log(
  `Restore cases:     ${restoreCasesAgreeing}/${restoreCases} (${pct(restoreCasesAgreeing, restoreCases)}) agree on the result and the rule set left; ` +
    `rule sets left differing: ${count("state", "intended")} intended, ${count("state", null)} real; ` +
    `atomicity broken by uptables: ${count("atomicity", null)}`,
);
console.log(`Time: ${((Date.now() - started) / 1000).toFixed(1)}s`);
process.exitCode = real.length > 0 ? 1 : 0;
