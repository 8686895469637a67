// iptables-restore under mutated corpus files (see restore-fuzzer.ts for the invariants). 12k
// files with a fixed seed; FUZZ_SEED=<n> runs another seed, FUZZ_SCALE=<x> multiplies the count.
import { describe, expect, it } from "vitest";
import { runRestoreFuzz } from "./restore-fuzzer.ts";
import { formatFailure, resolveScale, resolveSeed } from "./rng.ts";

const SEED = resolveSeed(0x1b7a_0002);
const CASES = Math.round(12_000 * resolveScale());

describe("fuzz: iptables-restore parser", () => {
  it(`keeps its invariants over ${CASES} mutated files (seed ${SEED})`, { timeout: 300_000 }, () => {
    console.log(`[fuzz] restore parser: seed ${SEED} (FUZZ_SEED to change), ${CASES} cases`);
    const { stats, log } = runRestoreFuzz({ seed: SEED, cases: CASES });
    console.log(
      `[fuzz] restore parser: ${stats.cases} files in ${(stats.ms / 1000).toFixed(1)} s (${Math.round(stats.cases / (stats.ms / 1000))}/s); ` +
        `${stats.accepted} accepted (${stats.roundTrips} round trips), ${stats.refused} refused; exit codes ${JSON.stringify(stats.exitCodes)}; ` +
        `refusals by line format ${JSON.stringify(stats.lineStyles)}; ${log.summary()}`,
    );
    expect(stats.cases).toBe(CASES);
    expect(log.failures.map(formatFailure).join("\n\n")).toBe("");
  });
});
