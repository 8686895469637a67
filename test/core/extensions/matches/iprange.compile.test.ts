// -m iprange in the engine: --src-range/--dst-range as xt_iprange's iprange_mt4 tests them
// (inclusive at both ends, unsigned, each invertible on its own), on real packets.
import { describe, expect, it } from "vitest";
import { buildIpv4, buildUdp } from "../../../../src/core/packet/builder.ts";
import { runIptables } from "../../../../src/core/iptables/run.ts";
import type { RuleSet } from "../../../../src/core/rules/model.ts";
import { engineFor, rulesFromCommands } from "../../../support/engine.ts";

const udp = (src: string, dst = "172.17.0.2"): Uint8Array => buildUdp({ src, dst, sport: 1000, dport: 2000 });

function packetCounts(rules: RuleSet, chain = "FORWARD"): number[] {
  const out = runIptables(rules, ["-L", chain, "-v", "-n", "-x"]);
  expect(out.exitCode).toBe(0);
  return out.stdout.split("\n").slice(2).filter((l) => l.trim() !== "").map((l) => Number(l.trim().split(/\s+/)[0]));
}

function run(commands: string[], packets: Uint8Array[]): { accepted: boolean[]; counts: number[] } {
  const rules = rulesFromCommands(commands);
  const engine = engineFor(rules);
  const accepted = packets.map((p) => engine.receive(p, p.length, "eth0", 0).accepted);
  return { accepted, counts: packetCounts(rules) };
}

describe("iprange: address ranges in the engine", () => {
  it("--src-range takes both ends and nothing outside", () => {
    const sources = ["192.168.0.9", "192.168.0.10", "192.168.0.15", "192.168.0.20", "192.168.0.21"];
    const { accepted, counts } = run(["-A FORWARD -m iprange --src-range 192.168.0.10-192.168.0.20 -j DROP"], sources.map((s) => udp(s)));
    expect(accepted).toEqual([true, false, false, false, true]);
    expect(counts).toEqual([3]);
  });

  it("compares addresses unsigned, across 127/128 and up to 255.255.255.255", () => {
    const sources = ["10.0.0.1", "127.255.255.255", "128.0.0.0", "192.168.0.5", "223.255.255.255"];
    const { accepted } = run(["-A FORWARD -m iprange --src-range 127.255.255.255-200.0.0.0 -j DROP"], sources.map((s) => udp(s)));
    expect(accepted).toEqual([true, false, false, false, true]);
    const top = run(["-A FORWARD -m iprange --src-range 192.168.0.6-255.255.255.255 -j DROP"], [udp("192.168.0.5"), udp("192.168.0.6"), udp("223.1.2.3")]);
    expect(top.accepted).toEqual([true, false, false]);
  });

  it("a range of one address, on the destination", () => {
    const { accepted, counts } = run(
      ["-A FORWARD -m iprange --dst-range 172.17.0.2 -j DROP"],
      [udp("192.168.0.5", "172.17.0.1"), udp("192.168.0.5", "172.17.0.2"), udp("192.168.0.5", "172.17.0.3")],
    );
    // 172.17.0.1 is the host itself: delivered locally, never in FORWARD.
    expect(accepted).toEqual([true, false, true]);
    expect(counts).toEqual([1]);
  });

  it("! inverts each range on its own, and both must hold", () => {
    const { accepted, counts } = run(
      ["-A FORWARD -m iprange ! --src-range 192.168.0.10-192.168.0.20 --dst-range 172.17.0.2-172.17.0.9 -j DROP"],
      [
        udp("192.168.0.9", "172.17.0.2"), // src outside, dst inside: match
        udp("192.168.0.21", "172.17.0.9"), // match
        udp("192.168.0.10", "172.17.0.2"), // src inside: no
        udp("192.168.0.9", "172.17.0.10"), // dst outside: no
      ],
    );
    expect(accepted).toEqual([false, false, true, true]);
    expect(counts).toEqual([2]);
  });

  it("a reversed range never matches, and its inversion always does", () => {
    const sources = ["192.168.0.9", "192.168.0.10", "192.168.0.15", "192.168.0.20", "192.168.0.21"];
    const reversed = run(["-A FORWARD -m iprange --src-range 192.168.0.20-192.168.0.10 -j DROP"], sources.map((s) => udp(s)));
    expect(reversed.accepted).toEqual([true, true, true, true, true]);
    const inverted = run(["-A FORWARD -m iprange ! --src-range 192.168.0.20-192.168.0.10 -j DROP"], sources.map((s) => udp(s)));
    expect(inverted.accepted).toEqual([false, false, false, false, false]);
  });

  it("looks at addresses only, so later fragments and any protocol match too", () => {
    const fragment = buildIpv4({ src: "192.168.0.12", dst: "172.17.0.2", protocol: 17, fragmentOffset: 5, payload: "abcdefgh" });
    const gre = buildIpv4({ src: "192.168.0.12", dst: "172.17.0.2", protocol: 47, payload: "abcd" });
    const { accepted, counts } = run(["-A FORWARD -m iprange --src-range 192.168.0.10-192.168.0.20 -j DROP"], [fragment, gre]);
    expect(accepted).toEqual([false, false]);
    expect(counts).toEqual([2]);
  });
});
