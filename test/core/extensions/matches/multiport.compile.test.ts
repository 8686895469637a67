// -m multiport in the engine: --sports/--dports/--ports as xt_multiport's ports_match_v1 tests
// them (single ports and inclusive ranges, either side for --ports, `!`), on real packets.
import { describe, expect, it } from "vitest";
import { buildIpv4, buildTcp, buildUdp } from "../../../../src/core/packet/builder.ts";
import { runIptables } from "../../../../src/core/iptables/run.ts";
import type { RuleSet } from "../../../../src/core/rules/model.ts";
import { engineFor, rulesFromCommands } from "../../../support/engine.ts";

const SRC = "192.168.0.5";
const DST = "172.17.0.2";

const tcp = (sport: number, dport: number): Uint8Array => buildTcp({ src: SRC, dst: DST, sport, dport, flags: 0x02, seq: 1 });
const udp = (sport: number, dport: number): Uint8Array => buildUdp({ src: SRC, dst: DST, sport, dport });
/** A protocol the engine does not parse ports of (sctp 132, dccp 33, udplite 136): ports are its first four bytes. */
const raw = (protocol: number, sport: number, dport: number): Uint8Array =>
  buildIpv4({ src: SRC, dst: DST, protocol, payload: [sport >> 8, sport & 0xff, dport >> 8, dport & 0xff, 0, 0, 0, 0, 0, 0, 0, 0] });

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

describe("multiport: port lists in the engine", () => {
  it("--dports takes each listed port and both ends of each range", () => {
    const ports = [21, 22, 23, 80, 999, 1000, 2000, 2001, 65535];
    const { accepted, counts } = run(["-A FORWARD -p tcp -m multiport --dports 22,80,1000:2000,65535 -j DROP"], ports.map((p) => tcp(40000, p)));
    expect(accepted).toEqual([true, false, true, false, true, false, false, true, false]);
    expect(counts).toEqual([5]);
  });

  it("--sports looks at the source port only", () => {
    const { accepted } = run(["-A FORWARD -p udp -m multiport --sports 53,100:200 -j DROP"], [udp(53, 1), udp(1, 53), udp(100, 1), udp(200, 1), udp(201, 100)]);
    expect(accepted).toEqual([false, true, false, false, true]);
  });

  it("--ports takes the port on either side", () => {
    const { accepted, counts } = run(
      ["-A FORWARD -p tcp -m multiport --ports 53,8000:8080 -j DROP"],
      [tcp(53, 40000), tcp(40000, 53), tcp(8080, 1), tcp(1, 8000), tcp(1, 2), tcp(7999, 8081)],
    );
    expect(accepted).toEqual([false, false, false, false, true, true]);
    expect(counts).toEqual([4]);
  });

  it("! matches when no entry holds the port", () => {
    const dports = run(["-A FORWARD -p tcp -m multiport ! --dports 22,80:90 -j DROP"], [tcp(1, 22), tcp(1, 80), tcp(1, 90), tcp(1, 91), tcp(22, 23)]);
    expect(dports.accepted).toEqual([true, true, true, false, false]);
    expect(dports.counts).toEqual([2]);
    // ! --ports: neither side may be listed.
    const either = run(["-A FORWARD -p tcp -m multiport ! --ports 53 -j DROP"], [tcp(53, 1), tcp(1, 53), tcp(1, 2)]);
    expect(either.accepted).toEqual([true, true, false]);
  });

  it("never matches a non-first fragment, inverted or not", () => {
    const fragment = buildIpv4({ src: SRC, dst: DST, protocol: 6, fragmentOffset: 3, payload: [0, 22, 0, 22, 0, 0, 0, 0] });
    const { accepted, counts } = run(
      [
        "-A FORWARD -p tcp -m multiport --ports 22 -j DROP",
        "-A FORWARD -p tcp -m multiport ! --dports 22 -j DROP",
        "-A FORWARD -p tcp -j ACCEPT",
      ],
      [fragment],
    );
    expect(accepted).toEqual([true]);
    expect(counts).toEqual([0, 0, 1]);
  });

  it("reads the ports of sctp, dccp and udplite from the first four bytes of their header", () => {
    const { accepted, counts } = run(
      [
        "-A FORWARD -p sctp -m multiport --dports 5000:5001 -j DROP",
        "-A FORWARD -p dccp -m multiport --sports 6000 -j DROP",
        "-A FORWARD -p udplite -m multiport ! --ports 7000 -j DROP",
      ],
      [raw(132, 1, 5001), raw(132, 5001, 1), raw(33, 6000, 1), raw(33, 1, 6000), raw(136, 7000, 1), raw(136, 1, 2)],
    );
    expect(accepted).toEqual([false, true, false, true, true, false]);
    expect(counts).toEqual([1, 1, 1]);
  });

  it("does not match a header too short to hold both ports", () => {
    const short = buildIpv4({ src: SRC, dst: DST, protocol: 132, payload: [0x13, 0x88, 0x13] });
    const { accepted, counts } = run(["-A FORWARD -p sctp -m multiport ! --dports 1 -j DROP"], [short]);
    expect(accepted).toEqual([true]);
    expect(counts).toEqual([0]);
  });
});
