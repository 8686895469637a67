// A million packets through the engine with Docker 27's rule set, then a quarter million more with
// the corpus rule sets swapped in now and then (REJECT, LOG, MARK... which Docker's set lacks). See
// engine-fuzzer.ts for the packets and the invariants. Fixed seed; FUZZ_SEED=<n> runs another,
// FUZZ_SCALE=<x> multiplies the counts.
import { describe, expect, it } from "vitest";
import { runEngineFuzz } from "./engine-fuzzer.ts";
import { formatFailure, resolveScale, resolveSeed } from "./rng.ts";

const SEED = resolveSeed(0x1b7a_0003);
const DOCKER_PACKETS = Math.round(1_000_000 * resolveScale());
const ROTATING_PACKETS = Math.round(250_000 * resolveScale());
const PACKETS = DOCKER_PACKETS + ROTATING_PACKETS;

describe("fuzz: engine", () => {
  it(`keeps its invariants over ${PACKETS} packets (seed ${SEED})`, { timeout: 300_000 }, () => {
    console.log(`[fuzz] engine: seed ${SEED} (FUZZ_SEED to change), ${DOCKER_PACKETS} packets with Docker 27's rules, ${ROTATING_PACKETS} with corpus rule sets`);
    const { stats, log } = runEngineFuzz({ seed: SEED, packets: PACKETS, rotateRuleSets: true, rotateFromPacket: DOCKER_PACKETS, rotateEvery: 10_000 });
    console.log(
      `[fuzz] engine: ${stats.packets} packets in ${(stats.ms / 1000).toFixed(1)} s (${Math.round(stats.packets / (stats.ms / 1000))}/s); ` +
        `${stats.accepted} accepted, ${stats.dropped} dropped ${JSON.stringify(stats.byReason)}; kinds ${JSON.stringify(stats.byKind)}; ` +
        `paths ${JSON.stringify(stats.byPath)}; accepted by ctstate ${JSON.stringify(stats.byState)}; NAT-rewritten ${JSON.stringify(stats.rewritten)}; ` +
        `${stats.transportChecked} transport checksums checked; ${stats.replies} REJECT replies; ${stats.ruleSets} rule sets swapped in; ` +
        `${stats.audits} conntrack audits (max ${stats.confirmedMax} confirmed); ${log.summary()}`,
    );
    expect(stats.packets).toBe(PACKETS);
    expect(log.failures.map(formatFailure).join("\n\n")).toBe("");
  });
});
