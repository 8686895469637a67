// 127.0.0.0/8 and route_localnet, as in seed 000's "forward ports on the local network": the host's
// `curl 127.0.0.1:8080` DNATed by nat OUTPUT to another machine may leave only when route_localnet
// is on for the out interface (ip_route_output's martian check, after OUTPUT); a neighbour's packet
// to 127.0.0.1 is DNATed in PREROUTING before the input martian check, and dropped by it otherwise.
import { describe, expect, it } from "vitest";
import { buildTcp } from "../../../src/core/packet/builder.ts";
import { formatAddress } from "../../../src/core/net/ipv4-address.ts";
import type { HostDescription } from "../../../src/core/host/host-view.ts";
import { engineFor, rulesFromCommands } from "../../support/engine.ts";

function host(routeLocalnet: boolean): HostDescription {
  return { interfaces: [{ name: "lo", addresses: ["127.0.0.1/8"] }, { name: "bridge_home", addresses: ["10.0.0.1/24"], routeLocalnet }] };
}

const ARTICLE = [
  "-t nat -N DUSTIN",
  "-t nat -A DUSTIN -p tcp --dport 8080 -j DNAT --to-destination 10.0.0.11:8080",
  "-t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DUSTIN",
  "-t nat -A OUTPUT -m addrtype --dst-type LOCAL -j DUSTIN",
  "-t nat -A POSTROUTING -s 127.0.0.1 -o bridge_home -j MASQUERADE",
];

function syn(src: string, dst: string, dport: number): Uint8Array {
  return buildTcp({ src, dst, sport: 40000, dport, flags: 0x02, seq: 1 });
}

const address = (p: Uint8Array, at: number): string => formatAddress(((p[at]! << 24) | (p[at + 1]! << 16) | (p[at + 2]! << 8) | p[at + 3]!) >>> 0);

describe("loopback addresses and route_localnet", () => {
  it("the host's 127.0.0.1 DNATed out of bridge_home is a martian source without route_localnet", () => {
    const engine = engineFor(rulesFromCommands(ARTICLE), host(false));
    const p = syn("127.0.0.1", "127.0.0.1", 8080);
    const r = engine.send(p, p.length, 0);
    expect(r.accepted).toBe(false);
    expect(r.dropReason).toBe("martian-source");
    // Dropped at the re-route, before POSTROUTING: the MASQUERADE never saw it.
    expect(engine.drops["martian-source"]).toBe(1);
  });

  it("with route_localnet on bridge_home it leaves, masqueraded", () => {
    const engine = engineFor(rulesFromCommands(ARTICLE), host(true));
    const p = syn("127.0.0.1", "127.0.0.1", 8080);
    const r = engine.send(p, p.length, 0);
    expect(r.accepted).toBe(true);
    expect(r.outInterface).toBe("bridge_home");
    expect([address(p, 12), address(p, 16)]).toEqual(["10.0.0.1", "10.0.0.11"]);
  });

  it("the host's own loopback traffic is looped back through lo", () => {
    const engine = engineFor(rulesFromCommands(ARTICLE), host(false));
    const p = syn("127.0.0.1", "127.0.0.1", 9090);
    const r = engine.send(p, p.length, 0);
    expect(r.accepted).toBe(true);
    expect(r.outInterface).toBe(null);
    expect(r.path).toBe("output");
  });

  it("a neighbour's 127.0.0.1:8080 is DNATed before the martian check; 127.0.0.1:9090 is a martian", () => {
    const engine = engineFor(rulesFromCommands(ARTICLE), host(false));
    const forwarded = syn("10.0.0.31", "127.0.0.1", 8080);
    const r = engine.receive(forwarded, forwarded.length, "bridge_home", 0);
    expect(r.accepted).toBe(true);
    expect(r.path).toBe("forward");
    expect(address(forwarded, 16)).toBe("10.0.0.11");
    const admin = syn("10.0.0.31", "127.0.0.1", 9090);
    const d = engine.receive(admin, admin.length, "bridge_home", 0);
    expect(d.accepted).toBe(false);
    expect(d.dropReason).toBe("martian-destination");
  });

  it("with route_localnet the neighbour reaches 127.0.0.1:9090 (CVE-2020-8558), unless raw PREROUTING drops it", () => {
    const engine = engineFor(rulesFromCommands([...ARTICLE, "-t raw -A PREROUTING -d 127.0.0.1/32 ! -i lo -p tcp -m tcp --dport 9090 -j DROP"]), host(true));
    const admin = syn("10.0.0.31", "127.0.0.1", 9090);
    const d = engine.receive(admin, admin.length, "bridge_home", 0);
    expect(d.accepted).toBe(false);
    expect(d.dropReason).toBe("rule");
    const open = engineFor(rulesFromCommands(ARTICLE), host(true));
    const again = syn("10.0.0.31", "127.0.0.1", 9090);
    const r = open.receive(again, again.length, "bridge_home", 0);
    expect(r.accepted).toBe(true);
    expect(r.path).toBe("input");
  });
});
