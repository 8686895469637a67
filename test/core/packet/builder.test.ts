import { describe, expect, it } from "vitest";
import { Ipv4View } from "../../../src/core/packet/ipv4.ts";
import { TCP_ACK, TCP_PSH, TCP_RST, TCP_SYN, TcpView } from "../../../src/core/packet/tcp.ts";
import { UdpView } from "../../../src/core/packet/udp.ts";
import { ICMP_DEST_UNREACH, ICMP_ECHO, ICMP_PORT_UNREACH, ICMP_TIME_EXCEEDED, IcmpView } from "../../../src/core/packet/icmp.ts";
import {
  buildIcmpEcho,
  buildIcmpError,
  buildIpv4,
  buildTcp,
  buildUdp,
  parseIPv4Address,
} from "../../../src/core/packet/builder.ts";
import * as packet from "../../../src/core/packet/index.ts";
import { IPPROTO_TCP } from "../../../src/core/net/protocols.ts";
import { fixture, loadPacketFixtures } from "../../support/pcap-fixture.ts";

const veth = loadPacketFixtures("veth.hex");
const A = parseIPv4Address("10.55.0.1");
const B = parseIPv4Address("10.55.0.2");
const hex = (s: string): Uint8Array => Uint8Array.from(s.replace(/\s+/g, "").match(/../g)!.map((b) => parseInt(b, 16)));

describe("builder reproduces the kernel's packets byte for byte", () => {
  it("the TCP SYN", () => {
    const built = buildTcp({
      src: "10.55.0.1",
      dst: "10.55.0.2",
      sport: 33684,
      dport: 5000,
      flags: TCP_SYN,
      seq: 2877966471,
      window: 64480,
      id: 6530,
      df: true,
      ttl: 64,
      options: hex("0204 04d8 0402 080a af54 bb70 0000 0000 0103 030a"),
    });
    expect([...built]).toEqual([...fixture(veth, "p1").bytes]);
  });

  it("the data segment and the RST-ACK", () => {
    const data = buildTcp({
      src: A, dst: B, sport: 33684, dport: 5000, flags: TCP_PSH | TCP_ACK, seq: 2877966472, ack: 237192865,
      window: 63, id: 6532, df: true, options: [1, 1, 8, 10, 0xaf, 0x54, 0xbb, 0x70, 0x11, 0x52, 0x4c, 0x8d],
      payload: "hello uptables",
    });
    expect([...data]).toEqual([...fixture(veth, "p4").bytes]);
    const rst = buildTcp({ src: B, dst: A, sport: 5003, dport: 39614, flags: TCP_RST | TCP_ACK, ack: 1804107425, window: 0, df: true });
    expect([...rst]).toEqual([...fixture(veth, "p19").bytes]);
  });

  it("the UDP datagram, also with an IP option", () => {
    const udp = buildUdp({ src: A, dst: B, sport: 33228, dport: 5001, id: 2715, df: true, payload: "udp payload 0123456789" });
    expect([...udp]).toEqual([...fixture(veth, "p11").bytes]);
    const withOption = buildUdp({
      src: A, dst: B, sport: 41347, dport: 5002, id: 2782, df: true, ipOptions: [0x94, 4, 0, 0], payload: "with options",
    });
    expect([...withOption]).toEqual([...fixture(veth, "p16").bytes]);
  });

  it("the echo request and reply", () => {
    const request = buildIcmpEcho({ src: A, dst: B, id: 44693, df: true, identifier: 0x1234, sequence: 1, payload: "uptables ping data" });
    expect([...request]).toEqual([...fixture(veth, "p20").bytes]);
    const reply = buildIcmpEcho({ src: B, dst: A, id: 59857, request: false, identifier: 0x1234, sequence: 1, payload: "uptables ping data" });
    expect([...reply]).toEqual([...fixture(veth, "p21").bytes]);
  });

  it("the port unreachables (addresses, TOS 0xc0 and the quote defaulted as Linux does)", () => {
    const unreachable = buildIcmpError(ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, fixture(veth, "p12").bytes, { id: 59738 });
    expect([...unreachable]).toEqual([...fixture(veth, "p13").bytes]);
    const withOptions = buildIcmpError(ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, fixture(veth, "p16").bytes, { id: 59748 });
    expect([...withOptions]).toEqual([...fixture(veth, "p17").bytes]);
  });
});

describe("builder", () => {
  it("fills every checksum and field", () => {
    const b = buildTcp({ src: "192.0.2.1", dst: "198.51.100.2", sport: 1, dport: 2, flags: TCP_SYN, options: [2, 4, 5, 0xb4, 1] });
    const ip = new Ipv4View(b);
    expect(ip.validate()).toBe("ok");
    expect([ip.ttl, ip.id, ip.tos, ip.dontFragment, ip.protocol]).toEqual([64, 0, 0, false, IPPROTO_TCP]);
    const tcp = new TcpView(b, ip.payloadOffset, ip.payloadLength);
    expect(tcp.validate()).toBe("ok");
    expect(tcp.dataOffset).toBe(7); // 5 option bytes padded to 8
    expect(tcp.optionByte(5)).toBe(0);
    expect(tcp.window).toBe(65535);
    expect(tcp.verifyChecksum(ip.source, ip.destination)).toBe(true);
  });

  it("sends a zero UDP checksum on request", () => {
    const b = buildUdp({ src: A, dst: B, sport: 1, dport: 2, checksum: false });
    const ip = new Ipv4View(b);
    expect(new UdpView(b, ip.payloadOffset, ip.payloadLength).checksum).toBe(0);
    expect(b.length).toBe(28);
  });

  it("builds fragments and raw packets", () => {
    const frag = buildIpv4({ src: A, dst: B, protocol: 17, mf: true, fragmentOffset: 100, payload: [1, 2, 3] });
    const ip = new Ipv4View(frag);
    expect(ip.validate()).toBe("ok");
    expect(ip.moreFragments && !ip.isFirstFragment).toBe(true);
    expect(ip.fragmentByteOffset).toBe(800);
  });

  it("quotes at most 548 bytes in an error by default, or what it is told", () => {
    const big = buildUdp({ src: A, dst: B, sport: 1, dport: 2, payload: new Uint8Array(1000) });
    const err = buildIcmpError(ICMP_TIME_EXCEEDED, 0, big, { src: "192.0.2.254", ttl: 255 });
    const ip = new Ipv4View(err);
    expect(ip.totalLength).toBe(576);
    expect(ip.source).toBe(parseIPv4Address("192.0.2.254"));
    expect(ip.destination).toBe(A);
    expect(ip.ttl).toBe(255);
    const icmp = new IcmpView(err, ip.payloadOffset, ip.payloadLength);
    expect(icmp.verifyChecksum()).toBe(true);
    expect(icmp.openInner()).toBe("ok");
    const short = buildIcmpError(ICMP_TIME_EXCEEDED, 0, big, { quoteLength: 28 });
    expect(short.length).toBe(20 + 8 + 28);
    const echo = new IcmpView(buildIcmpEcho({ src: A, dst: B }), 20);
    expect(echo.type).toBe(ICMP_ECHO);
  });

  it("refuses what no packet can have", () => {
    expect(() => parseIPv4Address("1.2.3")).toThrow(/not an IPv4 address/);
    expect(() => parseIPv4Address("256.1.1.1")).toThrow();
    expect(parseIPv4Address("255.255.255.255")).toBe(0xffffffff);
    expect(() => buildTcp({ src: A, dst: B, sport: 1, dport: 2, options: new Uint8Array(41) })).toThrow(/40 bytes/);
    expect(() => buildUdp({ src: A, dst: B, sport: 1, dport: 2, payload: new Uint8Array(65508) })).toThrow(/65535/);
  });

  it("is reachable through the index", () => {
    expect(packet.buildTcp).toBe(buildTcp);
    expect(typeof packet.Ipv4View).toBe("function");
    expect(typeof packet.internetChecksum).toBe("function");
    expect(typeof packet.PacketView).toBe("function");
  });
});
