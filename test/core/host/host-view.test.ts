// The host view: routes as the kernel picks them, address types as addrtype sees them, and the
// source addresses MASQUERADE and locally generated packets get.
import { describe, expect, it } from "vitest";
import { AddrType, HostDescriptionError, HostView } from "../../../src/core/host/host-view.ts";
import { parseDottedQuad } from "../../../src/core/net/ipv4-address.ts";

const ip = (text: string): number => parseDottedQuad(text)!;

const host = HostView.fromDescription({
  interfaces: [
    { name: "eth0", addresses: ["192.168.0.100/24"] },
    { name: "docker0", addresses: ["172.17.0.1/16"] },
    { name: "br-two", addresses: ["172.18.0.1/16", "10.9.0.1/24"] },
  ],
  routes: [
    { destination: "default", gateway: "192.168.0.1", dev: "eth0" },
    { destination: "203.0.113.0/24", gateway: "172.18.0.254", dev: "br-two", src: "10.9.0.1" },
    { destination: "198.51.100.0/24", type: "blackhole" },
  ],
});

describe("HostView", () => {
  it("routes by longest prefix: local addresses first, then connected subnets, then the default", () => {
    expect(host.route(ip("192.168.0.100"))!.route.type).toBe("local");
    expect(host.route(ip("127.0.0.5"))!.route.device).toBe("lo");
    expect(host.route(ip("172.17.0.2"))!.route.device).toBe("docker0");
    expect(host.route(ip("172.17.0.2"))!.nextHop).toBe(ip("172.17.0.2"));
    const def = host.route(ip("8.8.8.8"))!;
    expect(def.route.device).toBe("eth0");
    expect(def.nextHop).toBe(ip("192.168.0.1"));
    expect(host.route(ip("203.0.113.7"))!.route.device).toBe("br-two");
    expect(host.route(ip("198.51.100.1"))!.route.type).toBe("blackhole");
  });

  it("classifies addresses as the kernel's local table does", () => {
    expect(host.addressType(ip("192.168.0.100"))).toBe(AddrType.LOCAL);
    expect(host.addressType(ip("127.0.0.1"))).toBe(AddrType.LOCAL);
    expect(host.addressType(ip("172.17.255.255"))).toBe(AddrType.BROADCAST);
    expect(host.addressType(ip("255.255.255.255"))).toBe(AddrType.BROADCAST);
    expect(host.addressType(ip("0.0.0.0"))).toBe(AddrType.BROADCAST);
    expect(host.addressType(ip("224.0.0.1"))).toBe(AddrType.MULTICAST);
    expect(host.addressType(ip("8.8.8.8"))).toBe(AddrType.UNICAST);
    // Routes of the main table do not change the type (addrtype consults the local table only).
    expect(host.addressType(ip("198.51.100.1"))).toBe(AddrType.UNICAST);
    // --limit-iface-*: local only on the interface that holds the address.
    expect(host.addressType(ip("192.168.0.100"), "eth0")).toBe(AddrType.LOCAL);
    expect(host.addressType(ip("192.168.0.100"), "docker0")).toBe(AddrType.UNICAST);
  });

  it("chooses source addresses as inet_select_addr and route src do", () => {
    expect(host.selectSource("eth0", ip("192.168.0.1"))).toBe(ip("192.168.0.100"));
    expect(host.selectSource("br-two", ip("10.9.0.77"))).toBe(ip("10.9.0.1"));
    expect(host.selectSource("br-two", ip("203.0.113.9"))).toBe(ip("172.18.0.1"));
    expect(host.outputSource(ip("203.0.113.9"))).toBe(ip("10.9.0.1"));
    expect(host.outputSource(ip("8.8.8.8"))).toBe(ip("192.168.0.100"));
    expect(host.primaryAddress("docker0")).toBe(ip("172.17.0.1"));
  });

  it("refuses a description with a bad address, gateway or device, naming it", () => {
    expect(() => HostView.fromDescription({ interfaces: [{ name: "x", addresses: ["1.2.3"] }] })).toThrow(HostDescriptionError);
    expect(() => HostView.fromDescription({ interfaces: [{ name: "x" }], routes: [{ destination: "default", dev: "nope" }] })).toThrow(/no interface nope/);
    expect(() => HostView.fromDescription({ interfaces: [{ name: "x" }], routes: [{ destination: "10.0.0.0/8", dev: "x", gateway: "10.0.0.999" }] })).toThrow(/bad gateway/);
  });
});
