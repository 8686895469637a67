// The iptables command line under random and mutated argv (see command-fuzzer.ts for the
// invariants). 100k cases with a fixed seed; FUZZ_SEED=<n> runs another seed, FUZZ_SCALE=<x>
// multiplies the case count. `npx tsx scripts/fuzz-long.ts` runs it for longer.
import { describe, expect, it } from "vitest";
import { runCommandFuzz } from "./command-fuzzer.ts";
import { formatFailure, resolveScale, resolveSeed } from "./rng.ts";

const SEED = resolveSeed(0x1b7a_0001);
const CASES = Math.round(100_000 * resolveScale());

describe("fuzz: iptables command parser", () => {
  it(`keeps its invariants over ${CASES} commands (seed ${SEED})`, { timeout: 300_000 }, () => {
    console.log(`[fuzz] command parser: seed ${SEED} (FUZZ_SEED to change), ${CASES} cases`);
    const { stats, log } = runCommandFuzz({ seed: SEED, cases: CASES });
    console.log(
      `[fuzz] command parser: ${stats.cases} cases in ${stats.episodes} episodes, ${(stats.ms / 1000).toFixed(1)} s ` +
        `(${Math.round(stats.cases / (stats.ms / 1000))}/s); exit codes ${JSON.stringify(stats.exitCodes)}; ` +
        `${stats.changes} changes, ${stats.rulesRechecked} new rules re-parsed, ${stats.roundTrips} round trips; ${log.summary()}`,
    );
    expect(stats.cases).toBe(CASES);
    expect(log.failures.map(formatFailure).join("\n\n")).toBe("");
  });
});
