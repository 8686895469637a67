// Captured packets as the lab report shows them: one line per packet, and per probe by time.
import { describe, expect, it } from "vitest";
import { packetsBetween, summarisePacket } from "../../src/lab/capture.ts";
import { buildIcmpEcho, buildIcmpError, buildTcp, buildUdp } from "../../src/core/packet/builder.ts";

describe("summarisePacket", () => {
  it("TCP with flags and TTL, no sequence numbers", () => {
    expect(summarisePacket(buildTcp({ src: "10.0.0.1", dst: "10.0.0.2", sport: 41000, dport: 80, flags: 0x12, seq: 7, ttl: 63 }))).toBe("tcp 10.0.0.1:41000 > 10.0.0.2:80 [S.] ttl 63");
    expect(summarisePacket(buildTcp({ src: "10.0.0.1", dst: "10.0.0.2", sport: 1, dport: 2, flags: 0x11 }))).toBe("tcp 10.0.0.1:1 > 10.0.0.2:2 [F.] ttl 64");
  });

  it("UDP, ICMP echo and an ICMP error with the packet it is about", () => {
    expect(summarisePacket(buildUdp({ src: "10.0.0.1", dst: "10.0.0.2", sport: 41001, dport: 53 }))).toBe("udp 10.0.0.1:41001 > 10.0.0.2:53 ttl 64");
    expect(summarisePacket(buildIcmpEcho({ src: "10.0.0.1", dst: "10.0.0.2", identifier: 1234 }))).toBe("icmp 10.0.0.1 > 10.0.0.2 type 8 code 0 ttl 64");
    const udp = buildUdp({ src: "10.0.0.1", dst: "10.0.0.2", sport: 41001, dport: 9 });
    expect(summarisePacket(buildIcmpError(3, 3, udp, { ttl: 64 }))).toBe("icmp 10.0.0.2 > 10.0.0.1 type 3 code 3 ttl 64 (about udp 10.0.0.1:41001 > 10.0.0.2:9)");
  });

  it("a truncated packet says so instead of reading past its end", () => {
    expect(summarisePacket(new Uint8Array(10))).toBe("truncated ipv4 (10 bytes)");
  });
});

describe("packets of a probe", () => {
  it("are cut by time window and grouped per interface", () => {
    const packets = [
      { timeMs: 5, where: "b/eth0", summary: "x" },
      { timeMs: 10, where: "a/eth0", summary: "y" },
      { timeMs: 20, where: "a/eth0", summary: "z" },
    ];
    expect(packetsBetween(packets, 5, 20)).toEqual({ "a/eth0": ["y"], "b/eth0": ["x"] });
  });

});
