// -m icmp in the engine: --icmp-type as ip_tables' icmp_match tests it (type 255 for any type,
// inclusive code ranges, `!`), on real packets through Netfilter, with the rule counters.
import { describe, expect, it } from "vitest";
import { buildIcmpEcho, buildIcmpError, buildIpv4, buildUdp } from "../../../../src/core/packet/builder.ts";
import { runIptables } from "../../../../src/core/iptables/run.ts";
import type { RuleSet } from "../../../../src/core/rules/model.ts";
import { engineFor, rulesFromCommands } from "../../../support/engine.ts";

const SRC = "192.168.0.5";
const DST = "172.17.0.2";

const echoRequest = (): Uint8Array => buildIcmpEcho({ src: SRC, dst: DST, identifier: 7, sequence: 1 });
const echoReply = (): Uint8Array => buildIcmpEcho({ src: SRC, dst: DST, request: false, identifier: 7, sequence: 1 });
/** An ICMP error of `type`/`code` from the LAN about a datagram the container sent there. */
const icmpError = (type: number, code: number): Uint8Array =>
  buildIcmpError(type, code, buildUdp({ src: DST, dst: SRC, sport: 5000, dport: 53 }), { src: SRC, dst: DST });

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

describe("icmp: types and codes in the engine", () => {
  it("a named type takes every code of it and no other type", () => {
    const { accepted, counts } = run(["-A FORWARD -p icmp --icmp-type echo-request -j DROP"], [echoRequest(), echoReply(), icmpError(3, 3)]);
    expect(accepted).toEqual([false, true, true]);
    expect(counts).toEqual([1]);
  });

  it("a named code takes that code only", () => {
    const codes = [0, 1, 2, 3, 4, 13];
    const { accepted, counts } = run(["-A FORWARD -p icmp --icmp-type port-unreachable -j DROP"], codes.map((c) => icmpError(3, c)));
    expect(accepted).toEqual([true, true, true, false, true, true]);
    expect(counts).toEqual([1]);
  });

  it("TYPE/MIN:MAX takes both ends of the code range", () => {
    const codes = [0, 1, 2, 3, 4];
    const { accepted, counts } = run(["-A FORWARD -p icmp --icmp-type 3/1:3 -j DROP"], codes.map((c) => icmpError(3, c)));
    expect(accepted).toEqual([true, false, false, false, true]);
    expect(counts).toEqual([3]);
  });

  it("a bare number is the type with every code; TYPE/CODE one code", () => {
    const bare = run(["-A FORWARD -p icmp --icmp-type 11 -j DROP"], [icmpError(11, 0), icmpError(11, 1), icmpError(12, 0)]);
    expect(bare.accepted).toEqual([false, false, true]);
    const one = run(["-A FORWARD -p icmp --icmp-type 11/1 -j DROP"], [icmpError(11, 0), icmpError(11, 1), icmpError(11, 2)]);
    expect(one.accepted).toEqual([true, false, true]);
  });

  it("type 255 (any) matches every message whatever the code range says", () => {
    const packets = (): Uint8Array[] => [echoRequest(), echoReply(), icmpError(3, 3), icmpError(11, 0)];
    expect(run(["-A FORWARD -p icmp --icmp-type any -j DROP"], packets()).accepted).toEqual([false, false, false, false]);
    expect(run(["-A FORWARD -p icmp --icmp-type 255/3 -j DROP"], packets()).accepted).toEqual([false, false, false, false]);
  });

  it("! inverts: every other message matches, and ! any matches nothing", () => {
    const inverted = run(["-A FORWARD -p icmp ! --icmp-type echo-request -j DROP"], [echoRequest(), echoReply(), icmpError(3, 3)]);
    expect(inverted.accepted).toEqual([true, false, false]);
    expect(inverted.counts).toEqual([2]);
    const codes = run(["-A FORWARD -p icmp ! --icmp-type 3/1:3 -j DROP"], [0, 1, 3, 4].map((c) => icmpError(3, c)));
    expect(codes.accepted).toEqual([false, true, true, false]);
    const none = run(["-A FORWARD -p icmp ! --icmp-type any -j DROP"], [echoRequest(), icmpError(3, 3)]);
    expect(none.accepted).toEqual([true, true]);
    expect(none.counts).toEqual([0]);
  });

  it("never matches a non-first fragment, inverted or not", () => {
    const fragment = buildIpv4({ src: SRC, dst: DST, protocol: 1, fragmentOffset: 2, payload: [8, 0, 0, 0, 0, 0, 0, 0] });
    const { accepted, counts } = run(
      [
        "-A FORWARD -p icmp --icmp-type any -j DROP",
        "-A FORWARD -p icmp --icmp-type echo-request -j DROP",
        "-A FORWARD -p icmp ! --icmp-type echo-request -j DROP",
        "-A FORWARD -p icmp -j ACCEPT",
      ],
      [fragment],
    );
    expect(accepted).toEqual([true]);
    expect(counts).toEqual([0, 0, 0, 1]);
  });
});
