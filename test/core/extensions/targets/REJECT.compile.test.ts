// -j REJECT in the engine: the ICMP errors and TCP resets it sends, byte for byte, and when it stays
// silent. The expectations follow what Linux 6.18 sent in scratch namespaces joined by veth pairs.
import { describe, expect, it } from "vitest";
import { buildIcmpEcho, buildIcmpError, buildIpv4, buildTcp, buildUdp } from "../../../../src/core/packet/builder.ts";
import { engineFor, rulesFromCommands } from "../../../support/engine.ts";
import { ROUTER, decodePacket, receive, send } from "./engine-support.ts";

const SYN = 0x02;
const FIN = 0x01;
const RST = 0x04;
const PSH = 0x08;
const ACK = 0x10;

function inputRejecting(...options: string[]) {
  return engineFor(rulesFromCommands([`iptables -A INPUT -j REJECT ${options.join(" ")}`]), ROUTER);
}

const udpToRouter = (extra: Partial<Parameters<typeof buildUdp>[0]> = {}) =>
  buildUdp({ src: "198.51.100.7", dst: "203.0.113.1", sport: 40000, dport: 9, payload: "hello", ...extra });

describe("REJECT with an ICMP error", () => {
  it("answers a packet for the host from the address it was sent to, quoting it whole", () => {
    const offending = udpToRouter({ tos: 0x12, df: true, id: 0x4321 });
    const out = receive(inputRejecting(), offending, "eth0");
    expect(out.accepted).toBe(false);
    expect(out.dropReason).toBe("rule");
    expect(out.replies).toHaveLength(1);
    const reply = decodePacket(out.replies[0]!);
    expect(reply.src).toBe("203.0.113.1");
    expect(reply.dst).toBe("198.51.100.7");
    expect(reply.ip.protocol).toBe(1);
    expect(reply.ip.ttl).toBe(64);
    // The TOS bits kept, precedence "internetwork control" added: 0x12 -> 0xd2, as Linux sent.
    expect(reply.ip.tos).toBe(0xd2);
    expect(reply.ip.dontFragment).toBe(false);
    expect(reply.ip.id).toBe(0);
    expect(reply.ip.totalLength).toBe(20 + 8 + offending.length);
    expect(reply.ipChecksumOk).toBe(true);
    expect(reply.icmpChecksumOk).toBe(true);
    expect(reply.icmp.type).toBe(3);
    expect(reply.icmp.code).toBe(3);
    expect(reply.icmp.restOfHeader).toBe(0);
    expect([...reply.payload.subarray(8)]).toEqual([...offending]);
  });

  it("uses the ICMP code of each --reject-with", () => {
    const codes: [string, number][] = [
      ["icmp-net-unreachable", 0],
      ["icmp-host-unreachable", 1],
      ["icmp-proto-unreachable", 2],
      ["icmp-port-unreachable", 3],
      ["icmp-net-prohibited", 9],
      ["icmp-host-prohibited", 10],
      ["icmp-admin-prohibited", 13],
    ];
    for (const [name, code] of codes) {
      const out = receive(inputRejecting("--reject-with", name), udpToRouter(), "eth0");
      expect(out.replies, name).toHaveLength(1);
      expect(decodePacket(out.replies[0]!).icmp.code, name).toBe(code);
    }
  });

  it("quotes no more than keeps the error within 576 bytes", () => {
    const big = udpToRouter({ payload: new Uint8Array(1000).fill(0x78) });
    const reply = decodePacket(receive(inputRejecting(), big, "eth0").replies[0]!);
    expect(reply.ip.totalLength).toBe(576);
    expect([...reply.payload.subarray(8)]).toEqual([...big.subarray(0, 548)]);
    expect(reply.icmpChecksumOk).toBe(true);
  });

  it("quotes a packet with IP options, options and all, and sends none itself", () => {
    const offending = udpToRouter({ ipOptions: [0x94, 4, 0, 0] });
    const reply = decodePacket(receive(inputRejecting(), offending, "eth0").replies[0]!);
    expect(reply.ip.headerLength).toBe(20);
    expect(reply.ip.totalLength).toBe(28 + offending.length);
    expect([...reply.payload.subarray(8)]).toEqual([...offending]);
  });

  it("answers a forwarded packet from the source of the route back, quoting it after the TTL decrement", () => {
    const engine = engineFor(rulesFromCommands(["iptables -A FORWARD -j REJECT"]), ROUTER);
    const offending = buildUdp({ src: "10.0.0.5", dst: "198.51.100.7", sport: 40000, dport: 53, payload: "q", ttl: 64 });
    const out = receive(engine, offending, "eth1");
    expect(out.path).toBe("forward");
    expect(out.accepted).toBe(false);
    const reply = decodePacket(out.replies[0]!);
    expect(reply.src).toBe("10.0.0.1");
    expect(reply.dst).toBe("10.0.0.5");
    const quoted = decodePacket(reply.payload.slice(8));
    expect(quoted.ip.ttl).toBe(63);
    expect(quoted.ipChecksumOk).toBe(true);
    expect(quoted.dst).toBe("198.51.100.7");
  });

  it("takes the source from the way back, not from the interface the packet came in on", () => {
    // 10.99.0.0/16 is reached through eth2: Linux answered such a packet from eth2's address.
    const engine = engineFor(rulesFromCommands(["iptables -A FORWARD -j REJECT"]), ROUTER);
    const out = receive(engine, buildUdp({ src: "10.99.1.1", dst: "198.51.100.7", sport: 1, dport: 2 }), "eth1");
    expect(decodePacket(out.replies[0]!).src).toBe("10.9.0.1");
  });

  it("answers a packet for one of the host's addresses from that address, whatever the way back", () => {
    const out = receive(inputRejecting(), buildUdp({ src: "10.99.1.1", dst: "10.0.0.1", sport: 1, dport: 2 }), "eth1");
    const reply = decodePacket(out.replies[0]!);
    expect(reply.src).toBe("10.0.0.1");
    expect(reply.dst).toBe("10.99.1.1");
  });

  it("answers an echo request, but never an ICMP error", () => {
    const engine = inputRejecting();
    const echo = buildIcmpEcho({ src: "198.51.100.7", dst: "203.0.113.1", identifier: 7, sequence: 1, payload: "ping" });
    expect(receive(engine, echo, "eth0").replies).toHaveLength(1);
    const error = buildIcmpError(3, 3, udpToRouter(), { src: "198.51.100.7", dst: "203.0.113.1" });
    const out = receive(engine, error, "eth0");
    expect(out.accepted).toBe(false);
    expect(out.replies).toHaveLength(0);
  });

  it("does not answer a non-first fragment, but answers the first", () => {
    const engine = inputRejecting();
    const later = buildIpv4({ src: "198.51.100.7", dst: "203.0.113.1", protocol: 17, fragmentOffset: 10, payload: new Uint8Array(16) });
    const out = receive(engine, later, "eth0");
    expect(out.accepted).toBe(false);
    expect(out.replies).toHaveLength(0);
  });

  it("does not answer a packet sent to a broadcast or multicast address", () => {
    const engine = inputRejecting();
    for (const dst of ["203.0.113.255", "255.255.255.255"]) {
      const out = receive(engine, buildUdp({ src: "203.0.113.7", dst, sport: 68, dport: 67, checksum: false }), "eth0");
      expect(out.accepted, dst).toBe(false);
      expect(out.replies, dst).toHaveLength(0);
    }
    const forward = engineFor(rulesFromCommands(["iptables -A FORWARD -j REJECT"]), ROUTER);
    const out = receive(forward, buildUdp({ src: "10.0.0.5", dst: "239.1.2.3", sport: 5000, dport: 5000 }), "eth1");
    expect(out.replies).toHaveLength(0);
  });

  it("stays silent when the checksum does not verify, except for a UDP datagram without one", () => {
    const engine = inputRejecting();
    const bad = udpToRouter();
    bad[bad.length - 1] ^= 0xff;
    expect(receive(engine, bad, "eth0").replies).toHaveLength(0);
    expect(receive(engine, udpToRouter({ checksum: false }), "eth0").replies).toHaveLength(1);
    const badTcp = buildTcp({ src: "198.51.100.7", dst: "203.0.113.1", sport: 1, dport: 2, flags: SYN, payload: "x" });
    badTcp[badTcp.length - 1] ^= 0xff;
    expect(receive(engine, badTcp, "eth0").replies).toHaveLength(0);
  });

  it("checks an unknown protocol's payload as the kernel does: it must sum to zero", () => {
    const engine = inputRejecting("--reject-with", "icmp-proto-unreachable");
    const random = buildIpv4({ src: "198.51.100.7", dst: "203.0.113.1", protocol: 253, payload: [1, 2, 3, 4, 0x72, 0x61] });
    expect(receive(engine, random, "eth0").replies).toHaveLength(0);
    const zeros = buildIpv4({ src: "198.51.100.7", dst: "203.0.113.1", protocol: 253, payload: [0, 0, 0, 0] });
    const reply = decodePacket(receive(engine, zeros, "eth0").replies[0]!);
    expect(reply.icmp.code).toBe(2);
    // Protocols whose integrity is not such a sum (ESP here) are answered unchecked.
    const esp = buildIpv4({ src: "198.51.100.7", dst: "203.0.113.1", protocol: 50, payload: [0, 0, 1, 0, 0, 0, 0, 9] });
    expect(receive(engine, esp, "eth0").replies).toHaveLength(1);
  });

  it("trusts the checksum of a packet the host sends itself (offloaded), and answers it from its own source", () => {
    const engine = engineFor(rulesFromCommands(["iptables -A OUTPUT -j REJECT"]), ROUTER);
    const packet = buildUdp({ src: "203.0.113.1", dst: "198.51.100.7", sport: 40000, dport: 53, payload: "q" });
    packet[packet.length - 1] ^= 0xff;
    const out = send(engine, packet);
    expect(out.accepted).toBe(false);
    const reply = decodePacket(out.replies[0]!);
    expect(reply.src).toBe("203.0.113.1");
    expect(reply.dst).toBe("203.0.113.1");
    expect(reply.icmp.type).toBe(3);
  });
});

describe("REJECT --reject-with tcp-reset", () => {
  function tcpRejecting(chain = "INPUT") {
    return engineFor(rulesFromCommands([`iptables -A ${chain} -p tcp -j REJECT --reject-with tcp-reset`]), ROUTER);
  }
  const segment = (flags: number, extra: Partial<Parameters<typeof buildTcp>[0]> = {}) =>
    buildTcp({ src: "198.51.100.7", dst: "203.0.113.1", sport: 40001, dport: 80, flags, seq: 1000, window: 1000, ...extra });

  it("answers a SYN with RST+ACK: seq 0, ack = seq + SYN + payload", () => {
    const out = receive(tcpRejecting(), segment(SYN, { payload: "abc", id: 0x1234 }), "eth0");
    expect(out.accepted).toBe(false);
    expect(out.dropReason).toBe("rule");
    const rst = decodePacket(out.replies[0]!);
    expect(rst.src).toBe("203.0.113.1");
    expect(rst.dst).toBe("198.51.100.7");
    expect(rst.ip.totalLength).toBe(40);
    expect(rst.ip.tos).toBe(0);
    expect(rst.ip.id).toBe(0);
    expect(rst.ip.dontFragment).toBe(true);
    expect(rst.ip.ttl).toBe(64);
    expect(rst.ipChecksumOk).toBe(true);
    expect(rst.tcp.sourcePort).toBe(80);
    expect(rst.tcp.destinationPort).toBe(40001);
    expect(rst.tcp.headerLength).toBe(20);
    expect(rst.tcp.flags).toBe(RST | ACK);
    expect(rst.tcp.seq).toBe(0);
    expect(rst.tcp.ack).toBe(1004);
    expect(rst.tcp.window).toBe(0);
    expect(rst.tcp.urgentPointer).toBe(0);
    expect(rst.tcpChecksumOk).toBe(true);
  });

  it("answers a segment with ACK by a bare RST whose seq is that ack", () => {
    const out = receive(tcpRejecting(), segment(PSH | ACK, { seq: 5000, ack: 7777, payload: "abcdef" }), "eth0");
    const rst = decodePacket(out.replies[0]!);
    expect(rst.tcp.flags).toBe(RST);
    expect(rst.tcp.seq).toBe(7777);
    expect(rst.tcp.ack).toBe(0);
    expect(rst.tcpChecksumOk).toBe(true);
  });

  it("counts SYN and FIN in the ack, modulo 2^32", () => {
    const out = receive(tcpRejecting(), segment(SYN | FIN, { seq: 0xfffffffe, payload: "ab" }), "eth0");
    const rst = decodePacket(out.replies[0]!);
    expect(rst.tcp.flags).toBe(RST | ACK);
    expect(rst.tcp.ack).toBe(2);
  });

  it("never answers a RST, nor a segment whose checksum is wrong", () => {
    const engine = tcpRejecting();
    const rst = receive(engine, segment(RST | ACK, { ack: 1 }), "eth0");
    expect(rst.accepted).toBe(false);
    expect(rst.replies).toHaveLength(0);
    const bad = segment(SYN);
    bad[36] ^= 0xff; // the checksum field
    const out = receive(engine, bad, "eth0");
    expect(out.accepted).toBe(false);
    expect(out.replies).toHaveLength(0);
  });

  it("resets a forwarded connection in the name of the host it was for", () => {
    const out = receive(
      tcpRejecting("FORWARD"),
      buildTcp({ src: "10.0.0.5", dst: "198.51.100.7", sport: 40000, dport: 443, flags: SYN, seq: 41 }),
      "eth1",
    );
    const rst = decodePacket(out.replies[0]!);
    expect(rst.src).toBe("198.51.100.7");
    expect(rst.dst).toBe("10.0.0.5");
    expect(rst.tcp.sourcePort).toBe(443);
    expect(rst.tcp.ack).toBe(42);
    expect(rst.tcpChecksumOk).toBe(true);
  });

  it("resets a connection the host opens, its checksum not yet filled (offload)", () => {
    const packet = buildTcp({ src: "203.0.113.1", dst: "198.51.100.7", sport: 40000, dport: 25, flags: SYN, seq: 9 });
    packet[36] = 0;
    packet[37] = 0;
    const out = send(tcpRejecting("OUTPUT"), packet);
    const rst = decodePacket(out.replies[0]!);
    expect(rst.src).toBe("198.51.100.7");
    expect(rst.dst).toBe("203.0.113.1");
    expect(rst.tcp.ack).toBe(10);
  });
});
