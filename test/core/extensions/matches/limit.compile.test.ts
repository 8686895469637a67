// -m limit in the engine: the token bucket nft_limit runs for the `limit rate COUNT/UNIT burst B
// packets` expression iptables-nft makes of the rule. Full at load, one packet costs
// floor(UNIT in ns / COUNT), refilled one token per nanosecond up to burst * cost; a packet that
// finds too little does not match and takes nothing. Time is the engine's clock, in ms.
import { describe, expect, it } from "vitest";
import { buildUdp } from "../../../../src/core/packet/builder.ts";
import { runIptables } from "../../../../src/core/iptables/run.ts";
import type { Netfilter } from "../../../../src/core/engine/netfilter.ts";
import type { RuleSet } from "../../../../src/core/rules/model.ts";
import { engineFor, rulesFromCommands } from "../../../support/engine.ts";

const udp = (dport = 2000): Uint8Array => buildUdp({ src: "192.168.0.5", dst: "172.17.0.2", sport: 1000, dport });

function packetCounts(rules: RuleSet, chain = "FORWARD"): number[] {
  const out = runIptables(rules, ["-L", chain, "-v", "-n", "-x"]);
  expect(out.exitCode).toBe(0);
  return out.stdout.split("\n").slice(2).filter((l) => l.trim() !== "").map((l) => Number(l.trim().split(/\s+/)[0]));
}

/** `count` packets at `now`: how many were accepted. */
function burst(engine: Netfilter, now: number, count: number, dport = 2000): number {
  let accepted = 0;
  for (let i = 0; i < count; i++) {
    const packet = udp(dport);
    if (engine.receive(packet, packet.length, "eth0", now).accepted) accepted++;
  }
  return accepted;
}

/** An engine where only packets within the limit pass (the policy drops the rest). */
function limited(limit: string): { rules: RuleSet; engine: Netfilter } {
  const rules = rulesFromCommands(["-P FORWARD DROP", `-A FORWARD -m limit ${limit} -j ACCEPT`]);
  return { rules, engine: engineFor(rules) };
}

describe("limit: the token bucket in the engine", () => {
  it("lets the burst through at once, then one packet per period", () => {
    const { rules, engine } = limited("--limit 1/sec --limit-burst 3");
    expect(burst(engine, 0, 5)).toBe(3);
    expect(burst(engine, 999, 1)).toBe(0);
    expect(burst(engine, 1000, 2)).toBe(1);
    expect(burst(engine, 1999, 1)).toBe(0);
    expect(burst(engine, 2000, 1)).toBe(1);
    expect(packetCounts(rules)).toEqual([5]);
    const listing = runIptables(rules, ["-L", "FORWARD", "-v", "-n", "-x"]).stdout;
    expect(listing).toContain("Chain FORWARD (policy DROP 5 packets");
  });

  it("refills no further than the burst, however long the wait", () => {
    const { engine } = limited("--limit 1/sec --limit-burst 3");
    expect(burst(engine, 0, 3)).toBe(3);
    expect(burst(engine, 60_000, 10)).toBe(3);
    // Half the bucket back after two periods.
    expect(burst(engine, 62_000, 10)).toBe(2);
  });

  it("a packet that finds the bucket short takes nothing from it", () => {
    const { engine } = limited("--limit 1/sec --limit-burst 1");
    expect(burst(engine, 0, 1)).toBe(1);
    // Refused at 100, 200 ... 900 ms: the tokens they found stay and keep growing.
    for (let t = 100; t < 1000; t += 100) expect(burst(engine, t, 1)).toBe(0);
    expect(burst(engine, 1000, 1)).toBe(1);
  });

  it("rounds the cost down to whole nanoseconds: 3/sec is 333333333 ns a packet", () => {
    const { engine } = limited("--limit 3/sec --limit-burst 2");
    expect(burst(engine, 0, 3)).toBe(2);
    expect(burst(engine, 333, 1)).toBe(0); // 333000000 < 333333333
    expect(burst(engine, 334, 1)).toBe(1); // 334000000: 666667 left over, kept
    expect(burst(engine, 666, 1)).toBe(0); // 332666667
    expect(burst(engine, 667, 1)).toBe(1); // 333666667: 333334 left
    expect(burst(engine, 1000, 1)).toBe(1); // 333333334: 1 left
    expect(burst(engine, 1333, 1)).toBe(0); // 333000001
    // A packet every millisecond: floor(t * 1e6 / 333333333) matches by time t, so 30 over the
    // next 10 s (10^10 ns holds 30 costs and 10 ns).
    let accepted = 0;
    for (let t = 1334; t <= 11_333; t++) accepted += burst(engine, t, 1);
    expect(accepted).toBe(30);
  });

  it("caps the bucket before taking the cost, so a full bucket loses what lies beyond it", () => {
    // Burst 1: the bucket holds one cost at most, so at 334 ms the 666667 ns over it are gone.
    const { engine } = limited("--limit 3/sec --limit-burst 1");
    expect(burst(engine, 0, 2)).toBe(1);
    expect(burst(engine, 333, 1)).toBe(0);
    expect(burst(engine, 334, 1)).toBe(1);
    expect(burst(engine, 667, 1)).toBe(0); // 333000000 only
    expect(burst(engine, 668, 1)).toBe(1);
  });

  it("-m limit alone is 3/hour with a burst of 5", () => {
    const { engine } = limited("");
    expect(burst(engine, 0, 10)).toBe(5);
    expect(burst(engine, 20 * 60 * 1000 - 1, 1)).toBe(0);
    expect(burst(engine, 20 * 60 * 1000, 2)).toBe(1);
  });

  it("uses the rate iptables-nft stores: 1000/hour is one packet every 3.6 s", () => {
    const { engine } = limited("--limit 1000/hour --limit-burst 1");
    expect(burst(engine, 0, 2)).toBe(1);
    expect(burst(engine, 3599, 1)).toBe(0);
    expect(burst(engine, 3600, 1)).toBe(1);
  });

  it("stays exact when burst * cost is past 2^53 ns (1/day, burst 10000)", () => {
    const { engine } = limited("--limit 1/day --limit-burst 10000");
    expect(burst(engine, 0, 10_001)).toBe(10_000);
    const day = 24 * 60 * 60 * 1000;
    expect(burst(engine, day - 1, 1)).toBe(0);
    expect(burst(engine, day, 2)).toBe(1);
    // 10000 days later the bucket is full again, and no fuller.
    expect(burst(engine, day * 10_001, 10_001)).toBe(10_000);
  });

  it("keeps one bucket per rule", () => {
    const rules = rulesFromCommands([
      "-P FORWARD DROP",
      "-A FORWARD -p udp --dport 1 -m limit --limit 1/sec --limit-burst 2 -j ACCEPT",
      "-A FORWARD -p udp --dport 2 -m limit --limit 1/sec --limit-burst 2 -j ACCEPT",
    ]);
    const engine = engineFor(rules);
    expect(burst(engine, 0, 3, 1)).toBe(2);
    expect(burst(engine, 0, 3, 2)).toBe(2);
    expect(packetCounts(rules)).toEqual([2, 2]);
  });

  it("counts only packets it reaches: earlier rules that decide leave the bucket alone", () => {
    const rules = rulesFromCommands([
      "-P FORWARD DROP",
      "-A FORWARD -p udp --dport 9 -j ACCEPT",
      "-A FORWARD -m limit --limit 1/min --limit-burst 1 -j ACCEPT",
    ]);
    const engine = engineFor(rules);
    expect(burst(engine, 0, 5, 9)).toBe(5);
    expect(burst(engine, 0, 2)).toBe(1);
    expect(packetCounts(rules)).toEqual([5, 1]);
  });

  it("starts full again when the rule set is loaded anew", () => {
    const { rules, engine } = limited("--limit 1/hour --limit-burst 2");
    expect(burst(engine, 0, 3)).toBe(2);
    engine.load(rules);
    expect(burst(engine, 1, 3)).toBe(2);
  });

  it("a clock that steps back refills nothing", () => {
    const { engine } = limited("--limit 1/sec --limit-burst 1");
    expect(burst(engine, 5000, 1)).toBe(1);
    expect(burst(engine, 1000, 1)).toBe(0);
    expect(burst(engine, 5999, 1)).toBe(0);
    expect(burst(engine, 6000, 1)).toBe(1);
  });
});
