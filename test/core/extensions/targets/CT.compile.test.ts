// -j CT and -j NOTRACK in the engine: --notrack leaves the packet untracked; the other options are
// accepted and change nothing uptables models.
import { describe, expect, it } from "vitest";
import { buildTcp, buildUdp } from "../../../../src/core/packet/builder.ts";
import { CtState } from "../../../../src/core/conntrack/states.ts";
import type { TraceEvent } from "../../../../src/core/engine/netfilter.ts";
import { CONNTRACK_USER, engineFor, rulesFromCommands, traced } from "../../../support/engine.ts";
import { ROUTER, receive, send } from "./engine-support.ts";

const packet = () => buildUdp({ src: "198.51.100.7", dst: "203.0.113.1", sport: 40000, dport: 53 });

function conntrackEvents(events: TraceEvent[]) {
  return events.flatMap((e) => (e.kind === "conntrack" ? [{ hook: e.hook, state: e.state, ctId: e.ctId }] : []));
}

describe("CT --notrack and NOTRACK", () => {
  for (const target of ["CT --notrack", "NOTRACK"]) {
    it(`${target} leaves the packet untracked, and the walk goes on`, () => {
      const engine = engineFor(
        rulesFromCommands([`iptables -t raw -A PREROUTING -p udp --dport 53 -j ${target}`, "iptables -A INPUT -m conntrack --ctstate UNTRACKED -j LOG --log-prefix 'untracked '"]),
        ROUTER,
      );
      const { result, events } = traced(engine, () => receive(engine, packet(), "eth0"));
      expect(result.accepted).toBe(true);
      expect(conntrackEvents(events)).toEqual([{ hook: "PREROUTING", state: CtState.UNTRACKED, ctId: -1 }]);
      expect(result.logs).toHaveLength(1);
      expect(result.logs[0]).toMatch(/^untracked /);
      expect(engine.conntrack.table.confirmedCount).toBe(0);
      // A packet the rule does not match is tracked as usual.
      const other = buildUdp({ src: "198.51.100.7", dst: "203.0.113.1", sport: 40000, dport: 54 });
      const second = traced(engine, () => receive(engine, other, "eth0"));
      expect(conntrackEvents(second.events)[0]!.state).toBe(CtState.NEW);
    });
  }

  it("works from raw OUTPUT for packets the host sends", () => {
    const engine = engineFor(rulesFromCommands(["iptables -t raw -A OUTPUT -j CT --notrack", ...CONNTRACK_USER]), ROUTER);
    const { result, events } = traced(engine, () => send(engine, buildUdp({ src: "203.0.113.1", dst: "198.51.100.7", sport: 1, dport: 2 })));
    expect(result.accepted).toBe(true);
    expect(conntrackEvents(events)).toEqual([{ hook: "OUTPUT", state: CtState.UNTRACKED, ctId: -1 }]);
  });

  it("leaves alone a packet that looped back with its connection already found", () => {
    // The host talks to itself: OUTPUT tracks the packet; back in through lo, PREROUTING's rule is
    // too late, as in the kernel (xt_CT ignores a packet that has its conntrack).
    const engine = engineFor(rulesFromCommands(["iptables -t raw -A PREROUTING -j CT --notrack", ...CONNTRACK_USER]), ROUTER);
    const { result, events } = traced(engine, () =>
      send(engine, buildTcp({ src: "203.0.113.1", dst: "203.0.113.1", sport: 40000, dport: 22, flags: 0x02 })),
    );
    expect(result.accepted).toBe(true);
    const states = conntrackEvents(events);
    expect(states.map((s) => s.hook)).toEqual(["OUTPUT", "PREROUTING"]);
    expect(states[1]!.state).toBe(CtState.NEW);
    expect(states[1]!.ctId).toBeGreaterThanOrEqual(0);
    expect(engine.conntrack.table.confirmedCount).toBe(1);
  });
});

describe("CT with options uptables does not model", () => {
  it("accepts --zone, --ctevents and --helper and tracks the packet as usual", () => {
    const engine = engineFor(
      rulesFromCommands([
        "iptables -t raw -A PREROUTING -p udp -j CT --zone 3",
        "iptables -t raw -A PREROUTING -p udp -j CT --ctevents new,destroy",
        "iptables -t raw -A PREROUTING -p tcp --dport 21 -j CT --helper ftp",
      ]),
      ROUTER,
    );
    const { result, events } = traced(engine, () => receive(engine, packet(), "eth0"));
    expect(result.accepted).toBe(true);
    expect(conntrackEvents(events)[0]!.state).toBe(CtState.NEW);
    const ftp = traced(engine, () => receive(engine, buildTcp({ src: "198.51.100.7", dst: "203.0.113.1", sport: 40000, dport: 21, flags: 0x02 }), "eth0"));
    expect(ftp.result.accepted).toBe(true);
    expect(conntrackEvents(ftp.events)[0]!.state).toBe(CtState.NEW);
  });
});
