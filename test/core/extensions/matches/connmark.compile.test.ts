// -m connmark in the engine: the mark of the packet's connection, (ctmark & mask) == value as
// xt_connmark tests it, with `!`; a packet without a connection never matches.
import { describe, expect, it } from "vitest";
import { buildIpv4, buildUdp } from "../../../../src/core/packet/builder.ts";
import { runIptables } from "../../../../src/core/iptables/run.ts";
import type { Netfilter } from "../../../../src/core/engine/netfilter.ts";
import type { RuleSet } from "../../../../src/core/rules/model.ts";
import { engineFor, rulesFromCommands, traced } from "../../../support/engine.ts";

const udp = (sport = 1000): Uint8Array => buildUdp({ src: "192.168.0.5", dst: "172.17.0.2", sport, dport: 2000 });

function packetCounts(rules: RuleSet, chain = "FORWARD"): number[] {
  const out = runIptables(rules, ["-L", chain, "-v", "-n", "-x"]);
  expect(out.exitCode).toBe(0);
  return out.stdout.split("\n").slice(2).filter((l) => l.trim() !== "").map((l) => Number(l.trim().split(/\s+/)[0]));
}

/** Sends `packet` in from eth0; the connection id conntrack gave it (-1 for none) and whether it passed. */
function send(engine: Netfilter, packet: Uint8Array, now = 0): { ctId: number; accepted: boolean } {
  const { result, events } = traced(engine, () => engine.receive(packet, packet.length, "eth0", now).accepted);
  const tracked = events.find((e) => e.kind === "conntrack");
  return { ctId: tracked?.kind === "conntrack" ? tracked.ctId : -1, accepted: result };
}

describe("connmark: the connection mark in the engine", () => {
  it("a new connection has mark 0", () => {
    const rules = rulesFromCommands(["-A FORWARD -m connmark --mark 1", "-A FORWARD -m connmark ! --mark 0", "-A FORWARD -m connmark --mark 0 -j DROP"]);
    const engine = engineFor(rules);
    const first = send(engine, udp());
    expect(first.ctId).toBeGreaterThanOrEqual(0);
    expect(first.accepted).toBe(false);
    expect(packetCounts(rules)).toEqual([0, 0, 1]);
  });

  it("reads the mark stored with the connection, under the mask, for every packet of it", () => {
    const rules = rulesFromCommands([
      "-A FORWARD -m connmark --mark 0x5",
      "-A FORWARD -m connmark --mark 0x4/0x4",
      "-A FORWARD -m connmark --mark 0x4/0x6",
      "-A FORWARD -m connmark ! --mark 0x5",
      "-A FORWARD -m connmark --mark 0x10/0x10 -j DROP",
    ]);
    const engine = engineFor(rules);
    const { ctId } = send(engine, udp());
    expect(packetCounts(rules)).toEqual([0, 0, 0, 1, 0]);
    engine.conntrack.table.setMark(ctId, 0x5);
    expect(send(engine, udp(), 1).accepted).toBe(true);
    expect(packetCounts(rules)).toEqual([1, 1, 1, 1, 0]);
    engine.conntrack.table.setMark(ctId, 0xfffffff0);
    expect(send(engine, udp(), 2).accepted).toBe(false);
    expect(packetCounts(rules)).toEqual([1, 1, 1, 2, 1]);
    // Another connection keeps its own mark.
    expect(send(engine, udp(1001), 3).accepted).toBe(true);
    expect(packetCounts(rules)).toEqual([1, 1, 1, 3, 1]);
  });

  it("compares all 32 bits without a mask", () => {
    const rules = rulesFromCommands(["-A FORWARD -m connmark --mark 0xffffffff -j DROP"]);
    const engine = engineFor(rules);
    const { ctId } = send(engine, udp());
    engine.conntrack.table.setMark(ctId, 0xffffffff);
    expect(send(engine, udp(), 1).accepted).toBe(false);
    engine.conntrack.table.setMark(ctId, 0x7fffffff);
    expect(send(engine, udp(), 2).accepted).toBe(true);
    expect(packetCounts(rules)).toEqual([1]);
  });

  it("a packet without a connection never matches, not even ! --mark", () => {
    // A later fragment cannot be tracked (no ports): conntrack marks it INVALID, with no entry.
    const fragment = buildIpv4({ src: "192.168.0.5", dst: "172.17.0.2", protocol: 17, fragmentOffset: 1, payload: "abcdefgh" });
    const rules = rulesFromCommands(["-A FORWARD -m connmark --mark 0 -j DROP", "-A FORWARD -m connmark ! --mark 1 -j DROP", "-A FORWARD -m connmark ! --mark 0/0 -j DROP"]);
    const engine = engineFor(rules);
    const sent = send(engine, fragment);
    expect(sent.ctId).toBe(-1);
    expect(sent.accepted).toBe(true);
    expect(packetCounts(rules)).toEqual([0, 0, 0]);
  });

  it("an untracked packet (raw NOTRACK) never matches either", () => {
    const rules = rulesFromCommands([
      "-t raw -A PREROUTING -p udp --dport 2000 -j NOTRACK",
      "-A FORWARD -m connmark --mark 0 -j DROP",
      "-A FORWARD -m connmark ! --mark 1 -j DROP",
    ]);
    const engine = engineFor(rules);
    const sent = send(engine, udp());
    expect(sent.ctId).toBe(-1);
    expect(sent.accepted).toBe(true);
    expect(packetCounts(rules)).toEqual([0, 0]);
  });
});
