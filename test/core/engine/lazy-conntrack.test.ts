// The kernel's lazy conntrack: a namespace tracks connections only while some rule needs it (its
// checkentry calls nf_ct_netns_get). Verified on Linux 6.18 with iptables-nft 1.8.9 in scratch
// namespaces, one rule set at a time, one UDP datagram to 127.0.0.1, then `conntrack -L`:
//   no rules, filter/raw/mangle ACCEPT rules, -t nat -N/-P/-A POSTROUTING -j ACCEPT      -> 0 entries
//   -m state, -m conntrack, -m connmark, -j CONNMARK, -j CT --zone 1                        -> 1
//   -j SNAT / DNAT / MASQUERADE / REDIRECT (also in a user chain nothing jumps to)           -> 1
//   -j CT --notrack, -j NOTRACK, -m mark, -j MARK, addrtype, LOG, REJECT, CHECKSUM, TRACE,
//   TCPMSS, limit, iprange, NFLOG, multiport                                                 -> 0
//   -j MASQUERADE then -t nat -F                                                             -> 0
// (iptables-legacy the same for the nat table and -m state.)
import { describe, expect, it } from "vitest";
import { buildTcp, buildUdp } from "../../../src/core/packet/builder.ts";
import { formatAddress } from "../../../src/core/net/ipv4-address.ts";
import { compileRuleSet } from "../../../src/core/engine/compile.ts";
import type { Netfilter } from "../../../src/core/engine/netfilter.ts";
import { engineFor, rulesFromCommands } from "../../support/engine.ts";

const SYN = 0x02;
const ACK = 0x10;

/** A host forwarding between a LAN (eth1) and the Internet (eth0). */
const ROUTER = {
  interfaces: [
    { name: "eth0", addresses: ["203.0.113.1/24"] },
    { name: "eth1", addresses: ["10.0.0.1/24"] },
  ],
  routes: [{ destination: "default", gateway: "203.0.113.254", dev: "eth0" }],
};

function forwardTcp(engine: Netfilter, flags: number, now: number): Uint8Array {
  const p = buildTcp({ src: "10.0.0.2", dst: "198.51.100.7", sport: 40000, dport: 443, flags, seq: 1 });
  expect(engine.receive(p, p.length, "eth1", now).accepted).toBe(true);
  return p;
}

const sourceOf = (p: Uint8Array): string => formatAddress(((p[12]! << 24) | (p[13]! << 16) | (p[14]! << 8) | p[15]!) >>> 0);

const entries = (engine: Netfilter): number => engine.conntrack.table.confirmedCount;

const MASQUERADE = "-t nat -A POSTROUTING -o eth0 -j MASQUERADE";

describe("conntrack runs only while a rule needs it", () => {
  it("no entry for a connection before the nat table has a NAT rule; entries after", () => {
    const engine = engineFor(rulesFromCommands(["-A FORWARD -j ACCEPT"]), ROUTER);
    forwardTcp(engine, SYN, 0);
    expect(entries(engine)).toBe(0);
    // A nat table whose chains only ACCEPT does not start conntrack either (and is never walked).
    engine.load(rulesFromCommands(["-A FORWARD -j ACCEPT", "-t nat -P POSTROUTING ACCEPT", "-t nat -A POSTROUTING -j ACCEPT"]));
    forwardTcp(engine, SYN, 1);
    expect(entries(engine)).toBe(0);
    engine.load(rulesFromCommands(["-A FORWARD -j ACCEPT", MASQUERADE]));
    const p = forwardTcp(engine, SYN, 2);
    expect(entries(engine)).toBe(1);
    expect(sourceOf(p)).toBe("203.0.113.1");
  });

  it("the compiled rule set says which rules need conntrack, in any table or chain", () => {
    const tracks = (commands: string[]): boolean => compileRuleSet(rulesFromCommands(commands)).tracksConnections;
    for (const uses of [
      ["-A INPUT -m state --state NEW"],
      ["-A INPUT -m conntrack --ctstate NEW"],
      ["-A INPUT -m connmark --mark 1"],
      ["-t raw -A PREROUTING -j CT --zone 1"],
      ["-t nat -A POSTROUTING -o eth0 -j SNAT --to-source 203.0.113.1"],
      ["-t nat -A PREROUTING -p tcp -j DNAT --to-destination 10.0.0.2"],
      ["-t nat -A PREROUTING -p tcp -j REDIRECT"],
      ["-t nat -N UNUSED", "-t nat -A UNUSED -j MASQUERADE"],
      ["-N UNUSED", "-A UNUSED -m state --state NEW"],
    ]) {
      expect(tracks(uses), uses.join("; ")).toBe(true);
    }
    for (const none of [
      [],
      ["-A FORWARD -j ACCEPT", "-t raw -A PREROUTING -j ACCEPT", "-t mangle -A PREROUTING -j ACCEPT"],
      ["-t nat -N EMPTY", "-t nat -P OUTPUT ACCEPT", "-t nat -A POSTROUTING -j ACCEPT"],
      ["-t raw -A PREROUTING -j CT --notrack", "-t raw -A OUTPUT -j NOTRACK"],
      ["-A INPUT -m mark --mark 1 -j LOG", "-t mangle -A PREROUTING -j MARK --set-mark 1", "-A INPUT -m addrtype --dst-type LOCAL -p tcp -j REJECT"],
      [MASQUERADE, "-t nat -F"],
    ]) {
      expect(tracks(none), none.join("; ")).toBe(false);
    }
  });

  it("once nothing needs it, entries stay until they time out but no packet is tracked or NATed", () => {
    const engine = engineFor(rulesFromCommands(["-A FORWARD -j ACCEPT", MASQUERADE]), ROUTER);
    expect(sourceOf(forwardTcp(engine, SYN, 0))).toBe("203.0.113.1");
    expect(entries(engine)).toBe(1);
    engine.load(rulesFromCommands(["-A FORWARD -j ACCEPT"]));
    // The connection's next packet finds no conntrack: it leaves as it is, its entry untouched.
    expect(sourceOf(forwardTcp(engine, ACK, 1))).toBe("10.0.0.2");
    const udp = buildUdp({ src: "10.0.0.2", dst: "198.51.100.7", sport: 5000, dport: 53, payload: new Uint8Array(4) });
    expect(engine.receive(udp, udp.length, "eth1", 1).accepted).toBe(true);
    expect(entries(engine)).toBe(1);
    // The SYN_SENT entry (2 minutes) still expires on the table's clock (milliseconds).
    expect(engine.collectGarbage(60_000)).toBe(0);
    expect(engine.collectGarbage(200_000)).toBe(1);
    expect(entries(engine)).toBe(0);
  });
});
