// -m udp in the engine: --sport/--dport as xt_tcpudp's udp_mt tests them, run on real packets
// through Netfilter, with the rule counters read back as `iptables -L -v -n -x` shows them.
import { describe, expect, it } from "vitest";
import { buildIpv4, buildUdp } from "../../../../src/core/packet/builder.ts";
import { runIptables } from "../../../../src/core/iptables/run.ts";
import type { RuleSet } from "../../../../src/core/rules/model.ts";
import { engineFor, rulesFromCommands } from "../../../support/engine.ts";

/** From the LAN (eth0) to a container (docker0): the FORWARD path of the default test host. */
const SRC = "192.168.0.5";
const DST = "172.17.0.2";

const udp = (sport: number, dport: number): Uint8Array => buildUdp({ src: SRC, dst: DST, sport, dport, payload: "x" });

/** The packet counter of each rule of `chain`, in order. */
function packetCounts(rules: RuleSet, chain = "FORWARD"): number[] {
  const out = runIptables(rules, ["-L", chain, "-v", "-n", "-x"]);
  expect(out.exitCode).toBe(0);
  return out.stdout.split("\n").slice(2).filter((l) => l.trim() !== "").map((l) => Number(l.trim().split(/\s+/)[0]));
}

/** Sends each packet in from eth0 and says which were accepted. */
function run(commands: string[], packets: Uint8Array[]): { accepted: boolean[]; counts: number[] } {
  const rules = rulesFromCommands(commands);
  const engine = engineFor(rules);
  const accepted = packets.map((p) => engine.receive(p, p.length, "eth0", 0).accepted);
  return { accepted, counts: packetCounts(rules) };
}

describe("udp: ports in the engine", () => {
  it("drops the one destination port and counts it", () => {
    const { accepted, counts } = run(["-A FORWARD -p udp --dport 53 -j DROP"], [udp(1000, 53), udp(1000, 54), udp(53, 1000)]);
    expect(accepted).toEqual([false, true, true]);
    expect(counts).toEqual([1]);
  });

  it("takes both ends of a range and nothing outside it", () => {
    const ports = [999, 1000, 1001, 1999, 2000, 2001];
    const { accepted, counts } = run(["-A FORWARD -p udp --dport 1000:2000 -j DROP"], ports.map((p) => udp(40000, p)));
    expect(accepted).toEqual([true, false, false, false, false, true]);
    expect(counts).toEqual([4]);
  });

  it("open ranges reach port 0 and port 65535", () => {
    const { accepted } = run(
      ["-A FORWARD -p udp --sport :0 -j DROP", "-A FORWARD -p udp --sport 65535: -j DROP"],
      [udp(0, 1), udp(1, 1), udp(65534, 1), udp(65535, 1)],
    );
    expect(accepted).toEqual([false, true, true, false]);
  });

  it("inverts a port and a range", () => {
    const { accepted, counts } = run(
      ["-A FORWARD -p udp ! --dport 53 -j DROP"],
      [udp(1, 53), udp(1, 52), udp(1, 54)],
    );
    expect(accepted).toEqual([true, false, false]);
    expect(counts).toEqual([2]);
    const range = run(["-A FORWARD -p udp ! --sport 1000:2000 -j DROP"], [udp(999, 1), udp(1000, 1), udp(2000, 1), udp(2001, 1)]);
    expect(range.accepted).toEqual([false, true, true, false]);
  });

  it("needs both the source and the destination port when both are given", () => {
    const { accepted, counts } = run(
      ["-A FORWARD -p udp --sport 5000 ! --dport 53 -j DROP"],
      [udp(5000, 54), udp(5000, 53), udp(5001, 54)],
    );
    expect(accepted).toEqual([false, true, true]);
    expect(counts).toEqual([1]);
  });

  it("never matches a non-first fragment, not even with inverted ports", () => {
    const fragment = buildIpv4({ src: SRC, dst: DST, protocol: 17, fragmentOffset: 1, payload: [0, 53, 0, 53, 0, 9, 0, 0, 1] });
    const { accepted, counts } = run(
      ["-A FORWARD -p udp --dport 53 -j DROP", "-A FORWARD -p udp ! --dport 53 -j DROP", "-A FORWARD -p udp -j ACCEPT"],
      [fragment],
    );
    expect(accepted).toEqual([true]);
    expect(counts).toEqual([0, 0, 1]);
  });

  it("matches the ports of a first fragment, which has the header", () => {
    const first = buildUdp({ src: SRC, dst: DST, sport: 1, dport: 53, mf: true, payload: "12345678" });
    const { accepted } = run(["-A FORWARD -p udp --dport 53 -j DROP"], [first]);
    expect(accepted).toEqual([false]);
  });
});
