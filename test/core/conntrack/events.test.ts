// Connection events (`conntrack -E`) from the core: the table's sink hears NEW at confirmation,
// UPDATE when a packet changes the TCP state, SEEN_REPLY/ASSURED or the mark, DESTROY on every way
// out (delete, flush, expiry, reopen), nothing while no sink is set. The lines are compared with
// what the real `conntrack -E` printed for the same DNAT in a scratch namespace (conntrack-tools 1.4.7):
//
//     [NEW] tcp      6 120 SYN_SENT src=10.99.0.2 dst=10.99.0.1 sport=39800 dport=8080 [UNREPLIED] src=10.99.1.1 dst=10.99.0.2 sport=80 dport=39800
//  [UPDATE] tcp      6 60 SYN_RECV src=10.99.0.2 dst=10.99.0.1 sport=39800 dport=8080 src=10.99.1.1 dst=10.99.0.2 sport=80 dport=39800
//  [UPDATE] tcp      6 432000 ESTABLISHED src=10.99.0.2 dst=10.99.0.1 sport=39800 dport=8080 src=10.99.1.1 dst=10.99.0.2 sport=80 dport=39800 [ASSURED]
//     [NEW] udp      17 30 src=10.99.0.2 dst=10.99.0.1 sport=52402 dport=5353 [UNREPLIED] src=10.99.0.1 dst=10.99.0.2 sport=5353 dport=52402
import { describe, expect, it } from "vitest";
import { buildTcp, buildUdp } from "../../../src/core/packet/builder.ts";
import { formatConntrackEvent, type ConntrackEventType } from "../../../src/core/conntrack/events.ts";
import type { Netfilter } from "../../../src/core/engine/netfilter.ts";
import { CONNTRACK_USER, engineFor, rulesFromCommands } from "../../support/engine.ts";

const HOST = {
  interfaces: [
    { name: "eth0", addresses: ["10.99.0.1/24"] },
    { name: "lo", addresses: ["10.99.1.1/24"] },
  ],
  routes: [],
};

function listen(engine: Netfilter, clock: { now: number }): string[] {
  const lines: string[] = [];
  const table = engine.conntrack.table;
  table.events = (type: ConntrackEventType, id: number) => lines.push(formatConntrackEvent(table, type, id, clock.now));
  return lines;
}

function tcp(src: string, sport: number, dst: string, dport: number, flags: number): Uint8Array {
  return buildTcp({ src, dst, sport, dport, flags, seq: 1000, ack: flags & 0x10 ? 2000 : 0 });
}

describe("conntrack events", () => {
  it("NEW, UPDATE (SYN_RECV, ESTABLISHED ASSURED) for a DNATed connection, in conntrack -E's lines", () => {
    const engine = engineFor(rulesFromCommands(["-t nat -A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination 10.99.1.1:80"]), HOST);
    const clock = { now: 0 };
    const lines = listen(engine, clock);
    const send = (packet: Uint8Array, inInterface: string | null): void => {
      const result = inInterface === null ? engine.send(packet, packet.length, clock.now) : engine.receive(packet, packet.length, inInterface, clock.now);
      expect(result.accepted).toBe(true);
    };
    send(tcp("10.99.0.2", 39800, "10.99.0.1", 8080, 0x02), "eth0");
    // The reply leaves from the DNAT target (sent by the host itself).
    send(tcp("10.99.1.1", 80, "10.99.0.2", 39800, 0x12), null);
    send(tcp("10.99.0.2", 39800, "10.99.0.1", 8080, 0x10), "eth0");
    // A packet that changes nothing is no event.
    send(tcp("10.99.0.2", 39800, "10.99.0.1", 8080, 0x18), "eth0");
    expect(lines).toEqual([
      "    [NEW] tcp      6 120 SYN_SENT src=10.99.0.2 dst=10.99.0.1 sport=39800 dport=8080 [UNREPLIED] src=10.99.1.1 dst=10.99.0.2 sport=80 dport=39800",
      " [UPDATE] tcp      6 60 SYN_RECV src=10.99.0.2 dst=10.99.0.1 sport=39800 dport=8080 src=10.99.1.1 dst=10.99.0.2 sport=80 dport=39800",
      " [UPDATE] tcp      6 432000 ESTABLISHED src=10.99.0.2 dst=10.99.0.1 sport=39800 dport=8080 src=10.99.1.1 dst=10.99.0.2 sport=80 dport=39800 [ASSURED]",
    ]);
    // -D: DESTROY with the connection as it was.
    const id = [...engine.conntrack.table.confirmedIds()][0]!;
    engine.conntrack.table.remove(id);
    expect(lines[3]).toBe(" [DESTROY] tcp      6 432000 ESTABLISHED src=10.99.0.2 dst=10.99.0.1 sport=39800 dport=8080 src=10.99.1.1 dst=10.99.0.2 sport=80 dport=39800 [ASSURED]".slice(1));
  });

  it("DESTROY on expiry and flush; a dropped first packet leaves no event; no sink, no events", () => {
    const engine = engineFor(rulesFromCommands(["-A INPUT -p udp --dport 9 -j DROP", ...CONNTRACK_USER]), HOST);
    const clock = { now: 0 };
    const lines = listen(engine, clock);
    const udp = (sport: number, dport: number): void => {
      const packet = buildUdp({ src: "10.99.0.2", dst: "10.99.0.1", sport, dport });
      engine.receive(packet, packet.length, "eth0", clock.now);
    };
    udp(52402, 5353);
    udp(52403, 9); // dropped before confirmation: never NEW, so never DESTROY
    expect(lines).toEqual(["    [NEW] udp      17 30 src=10.99.0.2 dst=10.99.0.1 sport=52402 dport=5353 [UNREPLIED] src=10.99.0.1 dst=10.99.0.2 sport=5353 dport=52402"]);
    clock.now = 31_000;
    expect(engine.collectGarbage(clock.now)).toBe(1);
    expect(lines[1]).toBe("[DESTROY] udp      17 0 src=10.99.0.2 dst=10.99.0.1 sport=52402 dport=5353 [UNREPLIED] src=10.99.0.1 dst=10.99.0.2 sport=5353 dport=52402");
    udp(52404, 5353);
    engine.conntrack.table.flush();
    expect(lines.map((l) => l.slice(0, 9))).toEqual(["    [NEW]", "[DESTROY]", "    [NEW]", "[DESTROY]"]);

    engine.conntrack.table.events = null;
    udp(52405, 5353);
    engine.conntrack.table.flush();
    expect(lines).toHaveLength(4);
  });
});
