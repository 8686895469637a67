// A million packets through the engine with Docker 27's rule set (see engine-fuzzer.ts for the
// packets and the invariants). Fixed seed; FUZZ_SEED=<n> runs another, FUZZ_SCALE=<x> multiplies
// the count.
import { describe, expect, it } from "vitest";
import { runEngineFuzz } from "./engine-fuzzer.ts";
import { formatFailure, resolveScale, resolveSeed } from "./rng.ts";

const SEED = resolveSeed(0x1b7a_0003);
const PACKETS = Math.round(1_000_000 * resolveScale());

describe("fuzz: engine", () => {
  it(`keeps its invariants over ${PACKETS} packets (seed ${SEED})`, { timeout: 300_000 }, () => {
    console.log(`[fuzz] engine: seed ${SEED} (FUZZ_SEED to change), ${PACKETS} packets`);
    const { stats, log } = runEngineFuzz({ seed: SEED, packets: PACKETS });
    console.log(
      `[fuzz] engine: ${stats.packets} packets in ${(stats.ms / 1000).toFixed(1)} s (${Math.round(stats.packets / (stats.ms / 1000))}/s); ` +
        `${stats.accepted} accepted, ${stats.dropped} dropped ${JSON.stringify(stats.byReason)}; kinds ${JSON.stringify(stats.byKind)}; ` +
        `paths ${JSON.stringify(stats.byPath)}; accepted by ctstate ${JSON.stringify(stats.byState)}; ${stats.transportChecked} transport checksums checked; ` +
        `${stats.audits} conntrack audits (max ${stats.confirmedMax} confirmed); ${log.summary()}`,
    );
    expect(stats.packets).toBe(PACKETS);
    expect(log.failures.map(formatFailure).join("\n\n")).toBe("");
  });
});
