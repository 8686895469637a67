// route_localnet as the engine must see it: the kernel's IN_DEV_NET_ROUTE_LOCALNET is conf/all OR
// conf/<interface>; the host reader takes the values from a SysctlReader (the daemon's answers the
// host's own value for the sysctls it overrides).
import { describe, expect, it } from "vitest";
import { describeHost, routesLocalnet, type SysctlReader } from "../../src/datapath/host-reader.ts";
import { HostView } from "../../src/core/host/host-view.ts";

function reader(values: Record<string, string>): SysctlReader {
  return (path) => values[path.replace("/proc/sys/net/ipv4/conf/", "")] ?? null;
}

describe("route_localnet from conf/all and conf/<interface>", () => {
  it("is on when either is on, off when both are off", () => {
    expect(routesLocalnet("eth0", reader({ "all/route_localnet": "0", "eth0/route_localnet": "0" }))).toBe(false);
    expect(routesLocalnet("eth0", reader({ "all/route_localnet": "1", "eth0/route_localnet": "0" }))).toBe(true);
    expect(routesLocalnet("eth0", reader({ "all/route_localnet": "0", "eth0/route_localnet": "1" }))).toBe(true);
    expect(routesLocalnet("eth1", reader({ "all/route_localnet": "0", "eth0/route_localnet": "1" }))).toBe(false);
  });

  it("a missing sysctl (an interface that just went away) counts as off", () => {
    expect(routesLocalnet("gone", reader({}))).toBe(false);
  });

  it("reaches the engine's host view per interface", () => {
    const read = reader({ "all/route_localnet": "0", "br0/route_localnet": "1" });
    const addrs = [
      { ifname: "lo", addr_info: [{ family: "inet", local: "127.0.0.1", prefixlen: 8 }] },
      { ifname: "br0", addr_info: [{ family: "inet", local: "10.0.0.1", prefixlen: 24 }] },
      { ifname: "eth0", addr_info: [{ family: "inet", local: "192.168.0.100", prefixlen: 24 }] },
    ];
    const view = HostView.fromDescription(describeHost(addrs, [], { routeLocalnet: (name) => routesLocalnet(name, read) }));
    expect(view.routesLocalnet("br0")).toBe(true);
    expect(view.routesLocalnet("eth0")).toBe(false);
  });
});
