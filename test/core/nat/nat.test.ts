// NAT binding choice (nf_nat_core's get_unique_tuple) through the engine: keep the tuple when it is
// free, else search, never hand out a tuple twice; ranges, --random, null bindings.
import { describe, expect, it } from "vitest";
import { buildTcp } from "../../../src/core/packet/builder.ts";
import { decode } from "../../support/packets.ts";
import { CONNTRACK_USER, engineFor, rulesFromCommands } from "../../support/engine.ts";

const HOST = {
  interfaces: [
    { name: "eth0", addresses: ["192.168.0.100/24"] },
    { name: "docker0", addresses: ["172.17.0.1/16"] },
  ],
  routes: [{ destination: "default", gateway: "192.168.0.1", dev: "eth0" }],
};

function syn(src: string, sport: number, dst: string, dport: number): Uint8Array {
  return buildTcp({ src, dst, sport, dport, flags: 0x02, seq: 1 });
}

describe("NAT binding choice", () => {
  it("MASQUERADE keeps the source port when it is free and remaps the second flow that would clash", () => {
    const engine = engineFor(rulesFromCommands(["-t nat -A POSTROUTING -o eth0 -j MASQUERADE"]), HOST);
    const a = syn("172.17.0.2", 5000, "203.0.113.10", 443);
    const b = syn("172.17.0.3", 5000, "203.0.113.10", 443);
    engine.receive(a, a.length, "docker0", 0);
    engine.receive(b, b.length, "docker0", 1);
    expect(decode(a)).toMatchObject({ src: "192.168.0.100", sport: 5000 });
    const second = decode(b);
    expect(second.src).toBe("192.168.0.100");
    expect(second.sport).not.toBe(5000);
    expect(second.sport).toBeGreaterThanOrEqual(1024);
  });

  it("keeps privileged source ports privileged when it must remap them", () => {
    const engine = engineFor(rulesFromCommands(["-t nat -A POSTROUTING -o eth0 -j MASQUERADE"]), HOST);
    const a = syn("172.17.0.2", 700, "203.0.113.10", 22);
    const b = syn("172.17.0.3", 700, "203.0.113.10", 22);
    engine.receive(a, a.length, "docker0", 0);
    engine.receive(b, b.length, "docker0", 1);
    const port = decode(b).sport!;
    expect(port).toBeGreaterThanOrEqual(600);
    expect(port).toBeLessThan(1024);
  });

  it("--to-ports and SNAT address ranges stay inside the range; --random never keeps the original port blindly", () => {
    const engine = engineFor(rulesFromCommands(["-t nat -A POSTROUTING -o eth0 -p tcp -j SNAT --to-source 192.168.0.100-192.168.0.101:2000-2003"]), HOST);
    const seen = new Set<string>();
    for (let i = 0; i < 8; i++) {
      const p = syn(`172.17.0.${i + 2}`, 5000, "203.0.113.10", 443);
      expect(engine.receive(p, p.length, "docker0", i).accepted).toBe(true);
      const d = decode(p);
      expect(["192.168.0.100", "192.168.0.101"]).toContain(d.src);
      expect(d.sport).toBeGreaterThanOrEqual(2000);
      expect(d.sport).toBeLessThanOrEqual(2003);
      seen.add(`${d.src}:${d.sport}`);
    }
    expect(seen.size).toBe(8);
  });

  it("DNAT to an address range picks the same backend for the same client (hash of the addresses)", () => {
    const engine = engineFor(rulesFromCommands(["-t nat -A PREROUTING -p tcp --dport 80 -j DNAT --to-destination 172.17.0.10-172.17.0.20", "-A FORWARD -j ACCEPT"]), HOST);
    const first = syn("192.168.0.50", 40000, "192.168.0.100", 80);
    const again = syn("192.168.0.50", 40001, "192.168.0.100", 80);
    engine.receive(first, first.length, "eth0", 0);
    engine.receive(again, again.length, "eth0", 1);
    expect(decode(first).dst).toBe(decode(again).dst);
    const [, , , last] = decode(first).dst.split(".").map(Number);
    expect(last).toBeGreaterThanOrEqual(10);
    expect(last).toBeLessThanOrEqual(20);
  });

  it("a flow no rule NATs gets a null binding: a rule added later does not NAT it", () => {
    // Tracked from the first packet (without a conntrack user the SYN would pass untracked, and the
    // retransmission would be a new connection, masqueraded).
    const rules = rulesFromCommands(["-A FORWARD -j ACCEPT", ...CONNTRACK_USER]);
    const engine = engineFor(rules, HOST);
    const p = syn("172.17.0.2", 5000, "203.0.113.10", 443);
    engine.receive(p, p.length, "docker0", 0);
    engine.load(rulesFromCommands(["-A FORWARD -j ACCEPT", "-t nat -A POSTROUTING -o eth0 -j MASQUERADE"]));
    const retransmit = syn("172.17.0.2", 5000, "203.0.113.10", 443);
    engine.receive(retransmit, retransmit.length, "docker0", 1);
    expect(decode(retransmit).src).toBe("172.17.0.2");
  });
});
