// The walk through chains: jump, goto, RETURN, policies and counters, as ipt_do_table does it.
import { describe, expect, it } from "vitest";
import { buildTcp } from "../../../src/core/packet/builder.ts";
import { runIptables } from "../../../src/core/iptables/run.ts";
import { engineFor, rulesFromCommands, traced } from "../../support/engine.ts";

const HOST = { interfaces: [{ name: "eth0", addresses: ["10.0.0.1/24"] }, { name: "eth1", addresses: ["10.1.0.1/24"] }] };

function syn(dport: number, src = "10.0.0.5", dst = "10.1.0.9"): Uint8Array {
  return buildTcp({ src, dst, sport: 40000, dport, flags: 0x02, seq: 1 });
}

describe("chain traversal", () => {
  it("applies the first matching rule and counts it, then the policy for the rest", () => {
    const rules = rulesFromCommands(["-P FORWARD DROP", "-A FORWARD -p tcp --dport 80 -j ACCEPT", "-A FORWARD -p tcp --dport 81 -j DROP"]);
    const engine = engineFor(rules, HOST);
    expect(engine.receive(syn(80), syn(80).length, "eth0", 0).accepted).toBe(true);
    expect(engine.receive(syn(81), syn(81).length, "eth0", 0).accepted).toBe(false);
    expect(engine.receive(syn(82), syn(82).length, "eth0", 0).accepted).toBe(false);
    const listing = runIptables(rules, ["-L", "FORWARD", "-v", "-n", "-x"]).stdout;
    expect(listing).toContain("Chain FORWARD (policy DROP 1 packets, 40 bytes)");
    expect(listing).toMatch(/^ +1 +40 ACCEPT .*tcp dpt:80$/m);
    expect(listing).toMatch(/^ +1 +40 DROP .*tcp dpt:81$/m);
  });

  it("returns from a user chain to the rule after the jump, and RETURN does the same", () => {
    const rules = rulesFromCommands([
      "-P FORWARD DROP",
      "-N CHECK",
      "-A CHECK -p tcp --dport 22 -j RETURN",
      "-A CHECK -p tcp --dport 80 -j ACCEPT",
      "-A FORWARD -j CHECK",
      "-A FORWARD -p tcp --dport 22 -j ACCEPT",
    ]);
    const engine = engineFor(rules, HOST);
    expect(engine.receive(syn(22), 40, "eth0", 0).accepted).toBe(true);
    expect(engine.receive(syn(80), 40, "eth0", 0).accepted).toBe(true);
    expect(engine.receive(syn(23), 40, "eth0", 0).accepted).toBe(false);
  });

  it("goto does not come back: the end of the chain returns to the caller's caller", () => {
    const rules = rulesFromCommands([
      "-P FORWARD DROP",
      "-N OUTER",
      "-N INNER",
      "-A INNER -p tcp --dport 1 -j DROP",
      "-A OUTER -g INNER",
      "-A OUTER -j ACCEPT",
      "-A FORWARD -j OUTER",
      "-A FORWARD -p tcp --dport 2 -j ACCEPT",
    ]);
    const engine = engineFor(rules, HOST);
    // INNER falls through: back to FORWARD after the jump to OUTER (not to OUTER's ACCEPT).
    expect(engine.receive(syn(2), 40, "eth0", 0).accepted).toBe(true);
    expect(engine.receive(syn(3), 40, "eth0", 0).accepted).toBe(false);
  });

  it("goto from a built-in chain ends in its policy when the user chain falls through", () => {
    const rules = rulesFromCommands(["-P FORWARD DROP", "-N X", "-A FORWARD -g X", "-A FORWARD -j ACCEPT"]);
    const engine = engineFor(rules, HOST);
    expect(engine.receive(syn(5), 40, "eth0", 0).accepted).toBe(false);
  });

  it("traces every rule it passes, with the hook, table, chain and rule number", () => {
    const rules = rulesFromCommands(["-N X", "-A X -p tcp -j RETURN", "-A FORWARD -j X", "-A FORWARD -j ACCEPT"]);
    const engine = engineFor(rules, HOST);
    const { events } = traced(engine, () => engine.receive(syn(5), 40, "eth0", 0));
    const steps = events.flatMap((e) => (e.kind === "rule" ? [`${e.hook}:${e.step.table}:${e.step.chain}:${e.step.rule?.number ?? e.step.kind}`] : []));
    expect(steps).toEqual(["FORWARD:filter:FORWARD:1", "FORWARD:filter:X:1", "FORWARD:filter:FORWARD:2"]);
  });

  it("drops malformed packets before any rule, counted by reason", () => {
    const engine = engineFor(rulesFromCommands(["-A FORWARD -j ACCEPT"]), HOST);
    const packet = syn(80);
    packet[0] = 0x44; // IHL 4: below the minimum
    expect(engine.receive(packet, packet.length, "eth0", 0).dropReason).toBe("ip-header");
    expect(engine.receive(packet, 10, "eth0", 0).dropReason).toBe("ip-header");
    expect(engine.drops["ip-header"]).toBe(2);
  });
});
