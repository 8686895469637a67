import { describe, expect, it } from "vitest";
import { foldSum, pseudoHeaderSum, read16, sumBytes, write16 } from "../../../src/core/packet/checksum.ts";
import { Ipv4View } from "../../../src/core/packet/ipv4.ts";
import { UdpView, type UdpValidation } from "../../../src/core/packet/udp.ts";
import { buildUdp, parseIPv4Address } from "../../../src/core/packet/builder.ts";
import { IPPROTO_UDP } from "../../../src/core/net/protocols.ts";
import { fixture, fixtureCopy, loadPacketFixtures } from "../../support/pcap-fixture.ts";
import { Rng } from "./random.ts";

const veth = loadPacketFixtures("veth.hex");
const A = parseIPv4Address("10.55.0.1");
const B = parseIPv4Address("10.55.0.2");

function views(bytes: Uint8Array): { ip: Ipv4View; udp: UdpView } {
  const ip = new Ipv4View(bytes);
  return { ip, udp: new UdpView(bytes, ip.payloadOffset, ip.payloadLength) };
}

describe("UdpView over datagrams captured from the kernel", () => {
  it("reads a datagram field by field", () => {
    const { udp } = views(fixture(veth, "p11").bytes);
    expect(udp.validate()).toBe("ok");
    expect(udp.sourcePort).toBe(33228);
    expect(udp.destinationPort).toBe(5001);
    expect(udp.udpLength).toBe(30);
    expect(udp.payloadOffset).toBe(28);
    expect(udp.payloadLength).toBe(22);
    const text = new TextDecoder().decode(udp.buf.subarray(udp.payloadOffset, udp.payloadOffset + udp.payloadLength));
    expect(text).toBe("udp payload 0123456789");
    expect(udp.checksum).not.toBe(0);
    expect(udp.verifyChecksum(A, B)).toBe(true);
    expect(udp.computeChecksum(A, B)).toBe(udp.checksum);
  });

  it("verifies every unfragmented datagram, including the one after IP options", () => {
    for (const name of ["p11", "p12", "p16"]) {
      const { ip, udp } = views(fixture(veth, name).bytes);
      expect(ip.protocol, name).toBe(IPPROTO_UDP);
      expect(udp.validate(), name).toBe("ok");
      expect(udp.udpLength, name).toBe(ip.payloadLength);
      expect(udp.verifyChecksum(ip.source, ip.destination), name).toBe(true);
      expect(udp.computeChecksum(ip.source, ip.destination), name).toBe(udp.checksum);
    }
    expect(views(fixture(veth, "p16").bytes).udp.offset).toBe(24);
  });

  it("sees a first fragment's UDP length cover the whole datagram; the checksum needs both fragments", () => {
    const first = fixture(veth, "p14").bytes;
    const second = new Ipv4View(fixture(veth, "p15").bytes);
    const { ip, udp } = views(first);
    expect(udp.sourcePort).toBe(33228);
    expect(udp.udpLength).toBe(2056);
    expect(udp.validate()).toBe("length-too-long");
    // Reassembled, the datagram verifies.
    const whole = new Uint8Array(2056);
    whole.set(first.subarray(ip.payloadOffset, ip.offset + ip.totalLength), 0);
    whole.set(second.buf.subarray(second.payloadOffset, second.offset + second.totalLength), second.fragmentByteOffset);
    const reassembled = new UdpView(whole);
    expect(reassembled.validate()).toBe("ok");
    expect(reassembled.verifyChecksum(A, B)).toBe(true);
    for (let i = 0; i < 2048; i++) expect(whole[8 + i]).toBe(i & 0xff);
  });
});

describe("UdpView checksum rules", () => {
  it("a zero checksum means none: it verifies and rewrites leave it zero", () => {
    const b = buildUdp({ src: A, dst: B, sport: 1000, dport: 53, payload: "q", checksum: false });
    const { ip, udp } = views(b);
    expect(udp.checksum).toBe(0);
    expect(udp.verifyChecksum(A, B)).toBe(true);
    udp.setSourcePort(40000);
    const newSrc = parseIPv4Address("198.51.100.1");
    ip.setSource(newSrc);
    udp.updateForAddressChange(A, newSrc);
    expect(udp.checksum).toBe(0);
    expect(udp.sourcePort).toBe(40000);
    expect(ip.validate()).toBe("ok");
  });

  it("a computed zero is sent as 0xffff, by full and by incremental computation", () => {
    const b = buildUdp({ src: A, dst: B, sport: 1000, dport: 53, payload: "xy" });
    const { udp } = views(b);
    // Choose the last data word so the whole datagram sums to 0xffff: the checksum computes to 0.
    write16(b, udp.payloadOffset, 0);
    udp.setChecksum(0);
    const rest = foldSum(sumBytes(b, udp.offset, udp.byteLength, pseudoHeaderSum(A, B, IPPROTO_UDP, udp.byteLength)));
    write16(b, udp.payloadOffset, 0xffff - rest);
    expect(udp.computeChecksum(A, B)).toBe(0xffff);
    udp.fillChecksum(A, B);
    expect(udp.checksum).toBe(0xffff);
    expect(udp.verifyChecksum(A, B)).toBe(true);
    // Now a port change that lands on zero: move 1 from the port to a data word.
    const c = buildUdp({ src: A, dst: B, sport: 1000, dport: 53, payload: "xy" });
    const v = views(c).udp;
    write16(c, v.payloadOffset, 0);
    v.setChecksum(0);
    const sum = foldSum(sumBytes(c, v.offset, v.byteLength, pseudoHeaderSum(A, B, IPPROTO_UDP, v.byteLength)));
    write16(c, v.payloadOffset, 0xffff - sum - 1);
    v.fillChecksum(A, B);
    expect(v.checksum).toBe(0x0001);
    v.setSourcePort(1001);
    expect(v.checksum).toBe(0xffff);
    expect(v.verifyChecksum(A, B)).toBe(true);
  });

  it("matches a full recomputation after many random rewrites", () => {
    const rng = new Rng(768);
    const ip = new Ipv4View();
    const udp = new UdpView();
    for (let iter = 0; iter < 2000; iter++) {
      const bytes = rng.int(2) === 0
        ? fixtureCopy(veth, rng.pick(["p11", "p12", "p16"]))
        : buildUdp({ src: rng.u32(), dst: rng.u32(), sport: rng.u16(), dport: rng.u16(), payload: rng.bytes(rng.int(20)) });
      ip.reset(bytes);
      udp.reset(bytes, ip.payloadOffset, ip.payloadLength);
      for (let k = 0; k < 1 + rng.int(5); k++) {
        switch (rng.int(4)) {
          case 0: { const old = ip.source; const v = rng.u32(); ip.setSource(v); udp.updateForAddressChange(old, v); break; }
          case 1: { const old = ip.destination; const v = rng.u32(); ip.setDestination(v); udp.updateForAddressChange(old, v); break; }
          case 2: udp.setSourcePort(rng.u16()); break;
          case 3: udp.setDestinationPort(rng.u16()); break;
        }
      }
      const incremental = udp.checksum;
      expect(incremental).not.toBe(0);
      expect(udp.computeChecksum(ip.source, ip.destination)).toBe(incremental);
      expect(udp.verifyChecksum(ip.source, ip.destination)).toBe(true);
    }
  });
});

describe("UdpView.validate()", () => {
  const dgram = (): Uint8Array => buildUdp({ src: A, dst: B, sport: 1, dport: 2, payload: "0123" });
  const check = (b: Uint8Array, length?: number): UdpValidation => {
    const ip = new Ipv4View(b);
    return new UdpView(b, ip.payloadOffset, length ?? ip.payloadLength).validate();
  };

  it("truncated: fewer than 8 bytes", () => {
    for (let n = 0; n < 8; n++) expect(check(dgram(), n)).toBe("truncated");
  });

  it("length-too-long: the length field claims more than is there", () => {
    const b = dgram();
    write16(b, 24, 13);
    expect(check(b)).toBe("length-too-long");
    expect(check(dgram(), 11)).toBe("length-too-long");
  });

  it("length-too-short: the length field is below 8", () => {
    for (const len of [0, 1, 7]) {
      const b = dgram();
      write16(b, 24, len);
      expect(check(b)).toBe("length-too-short");
    }
  });

  it("accepts a length field shorter than the IP payload (trailing bytes), checksumming only what it covers", () => {
    const b = dgram();
    const { udp } = views(b);
    write16(b, 24, 10);
    udp.fillChecksum(A, B);
    expect(udp.validate()).toBe("ok");
    expect(udp.payloadLength).toBe(2);
    expect(udp.verifyChecksum(A, B)).toBe(true);
    expect(read16(b, 24)).toBe(10);
  });

  it("never throws on random bytes", () => {
    const rng = new Rng(21);
    const udp = new UdpView();
    for (let iter = 0; iter < 3000; iter++) {
      const b = rng.bytes(rng.int(40));
      udp.reset(b, rng.int(8), rng.int(50) - 5);
      udp.validate();
      void [udp.udpLength, udp.payloadLength, udp.checksum];
      udp.setDestinationPort(rng.u16());
      udp.updateForAddressChange(rng.u32(), rng.u32());
      udp.verifyChecksum(rng.u32(), rng.u32());
      udp.computeChecksum(rng.u32(), rng.u32());
    }
  });
});
