// The datapath's pure parts, without root: TUN names, the host view from `ip -j`, TTL fix-up.
import { describe, expect, it } from "vitest";
import { describeHost } from "../../src/datapath/host-reader.ts";
import { describePacket, incrementTtl } from "../../src/datapath/loop.ts";
import { tunNameFor } from "../../src/datapath/setup.ts";
import { HostView } from "../../src/core/host/host-view.ts";
import { buildUdp } from "../../src/core/packet/builder.ts";
import { verifyChecksum } from "../../src/core/packet/checksum.ts";

describe("datapath helpers", () => {
  it("names TUNs upt-X, shortened deterministically to 15 characters", () => {
    expect(tunNameFor("eth0")).toBe("upt-eth0");
    expect(tunNameFor("br-0123456789ab")).toMatch(/^upt-br-012-[0-9a-f]{4}$/);
    expect(tunNameFor("br-0123456789ab")).toBe(tunNameFor("br-0123456789ab"));
    expect(tunNameFor("br-0123456789ab")).not.toBe(tunNameFor("br-0123456789ac"));
    expect(tunNameFor("br-0123456789ab").length).toBeLessThanOrEqual(15);
  });

  it("builds the host view from ip -j, without the daemon's TUNs", () => {
    const addrs = [
      { ifname: "lo", addr_info: [{ family: "inet", local: "127.0.0.1", prefixlen: 8 }] },
      { ifname: "eth0", addr_info: [{ family: "inet", local: "192.168.0.100", prefixlen: 24 }, { family: "inet6", local: "fe80::1", prefixlen: 64 }] },
      { ifname: "upt-eth0", addr_info: [] },
    ];
    const routes = [
      { dst: "default", gateway: "192.168.0.1", dev: "eth0" },
      { dst: "192.168.0.0/24", dev: "eth0", protocol: "kernel", scope: "link", prefsrc: "192.168.0.100" },
      { dst: "10.9.0.0/16", dev: "upt-eth0" },
      { dst: "10.66.0.0/16", type: "blackhole" },
    ];
    const d = describeHost(addrs, routes, { exclude: (n) => n.startsWith("upt-") });
    expect(d.interfaces.map((i) => i.name)).toEqual(["lo", "eth0"]);
    const view = HostView.fromDescription(d);
    expect(view.route(0x08080808)?.route.device).toBe("eth0");
    expect(view.route(0x0a420001)?.route.type).toBe("blackhole");
    expect(view.route(0x0a090001)?.route.device).toBe("eth0"); // via the default route, not the TUN
    expect(view.isLocal(0xc0a80064)).toBe(true);
  });

  it("carries send_redirects into the host view: conf/all OR conf/<interface>", () => {
    const addrs = [{ ifname: "eth0", addr_info: [{ family: "inet", local: "192.168.0.100", prefixlen: 24 }] }, { ifname: "docker0", addr_info: [] }];
    const view = (all: boolean, perInterface: boolean): HostView =>
      HostView.fromDescription(describeHost(addrs, [], { sendRedirects: (n) => n !== "eth0" || perInterface, sendRedirectsAll: all }));
    expect(view(false, false).sendsRedirects("eth0")).toBe(false);
    expect(view(false, false).sendsRedirects("docker0")).toBe(true);
    expect(view(false, true).sendsRedirects("eth0")).toBe(true);
    expect(view(true, false).sendsRedirects("eth0")).toBe(true);
    expect(HostView.fromDescription(describeHost(addrs, [])).sendsRedirects("eth0")).toBe(true); // the kernel's default
  });

  it("adds one to the TTL and keeps the header checksum valid", () => {
    const pkt = buildUdp({ src: "10.0.0.1", dst: "10.0.0.2", sport: 1, dport: 2, ttl: 63 });
    incrementTtl(pkt, 0);
    expect(pkt[8]).toBe(64);
    expect(verifyChecksum(pkt, 0, 20)).toBe(true);
    expect(describePacket(pkt, 0, pkt.length)).toBe("udp 10.0.0.1:1 > 10.0.0.2:2 ttl 64");
  });
});
