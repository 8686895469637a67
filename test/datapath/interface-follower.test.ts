// Which interfaces a running daemon takes over or releases as the host's links change.
import { describe, expect, it } from "vitest";
import { interfaceChanges, takeableInterfaces, type LinkSummary } from "../../src/datapath/interface-follower.ts";

const UP = ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"];
const DOWN = ["BROADCAST", "MULTICAST"];

const host: LinkSummary[] = [
  { ifname: "lo", flags: ["LOOPBACK", "UP", "LOWER_UP"] },
  { ifname: "eth0", flags: UP },
  { ifname: "docker0", flags: UP },
  { ifname: "vethc", master: "docker0", flags: UP },
  { ifname: "upt-eth0", flags: ["POINTOPOINT", "NOARP", "UP"] },
  { ifname: "upt-OUTPUT", flags: ["POINTOPOINT", "NOARP", "UP"] },
];

describe("takeableInterfaces", () => {
  it("all but lo, bridge ports and upt- TUNs", () => {
    expect(takeableInterfaces(host)).toEqual(["eth0", "docker0"]);
  });
});

describe("interfaceChanges", () => {
  it("nothing changes while the links stay the same", () => {
    expect(interfaceChanges(["docker0", "eth0"], host)).toEqual({ takeOver: [], release: [] });
  });

  it("a new bridge is taken over once it is up (`docker network create` sets it up with no ports yet)", () => {
    const bridge = { ifname: "br-0123456789ab", flags: ["NO-CARRIER", "BROADCAST", "MULTICAST", "UP"] };
    expect(interfaceChanges(["docker0", "eth0"], [...host, { ...bridge, flags: DOWN }])).toEqual({ takeOver: [], release: [] });
    expect(interfaceChanges(["docker0", "eth0"], [...host, bridge])).toEqual({ takeOver: ["br-0123456789ab"], release: [] });
  });

  it("a veth that becomes a bridge port is never taken over, and released if it was", () => {
    const loose = { ifname: "veth9", flags: DOWN };
    expect(interfaceChanges(["docker0", "eth0"], [...host, loose]).takeOver).toEqual([]);
    const port = { ifname: "veth9", master: "docker0", flags: UP };
    expect(interfaceChanges(["docker0", "eth0"], [...host, port])).toEqual({ takeOver: [], release: [] });
    expect(interfaceChanges(["docker0", "eth0", "veth9"], [...host, port])).toEqual({ takeOver: [], release: ["veth9"] });
  });

  it("an interface that went away is released; one that only went down stays taken", () => {
    const withoutDocker0 = host.filter((l) => l.ifname !== "docker0");
    expect(interfaceChanges(["docker0", "eth0"], withoutDocker0)).toEqual({ takeOver: [], release: ["docker0"] });
    const docker0Down = host.map((l) => (l.ifname === "docker0" ? { ...l, flags: DOWN } : l));
    expect(interfaceChanges(["docker0", "eth0"], docker0Down)).toEqual({ takeOver: [], release: [] });
  });

  it("lo and upt- devices are never taken over, even when up", () => {
    expect(interfaceChanges([], host).takeOver).toEqual(["docker0", "eth0"]);
  });
});
