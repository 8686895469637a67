import { describe, expect, it } from "vitest";
import { foldSum, pseudoHeaderSum } from "../../../src/core/packet/checksum.ts";
import { Ipv4View } from "../../../src/core/packet/ipv4.ts";
import {
  TCP_ACK,
  TCP_FIN,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
  TcpView,
  type TcpValidation,
} from "../../../src/core/packet/tcp.ts";
import { buildTcp, parseIPv4Address } from "../../../src/core/packet/builder.ts";
import { IPPROTO_TCP } from "../../../src/core/net/protocols.ts";
import { fixture, fixtureCopy, loadPacketFixtures, type PacketFixture } from "../../support/pcap-fixture.ts";
import { Rng } from "./random.ts";

const veth = loadPacketFixtures("veth.hex");
const loopback = loadPacketFixtures("loopback.hex");
const A = parseIPv4Address("10.55.0.1");
const B = parseIPv4Address("10.55.0.2");

function views(bytes: Uint8Array): { ip: Ipv4View; tcp: TcpView } {
  const ip = new Ipv4View(bytes);
  return { ip, tcp: new TcpView(bytes, ip.payloadOffset, ip.payloadLength) };
}

const tcpFixtures = (m: Map<string, PacketFixture>): PacketFixture[] =>
  [...m.values()].filter((p) => new Ipv4View(p.bytes).protocol === IPPROTO_TCP);

/** tcpdump's "Flags [S.], cksum 0x4294 (correct), seq N, ack M, win W" in the decoding. */
function decodedTcp(p: PacketFixture): { flags: string; cksum: number; win: number; ports: [number, number] } {
  const m = /\.(\d+) > [\d.]+\.(\d+): Flags \[([^\]]*)\], cksum 0x([0-9a-f]+) .*win (\d+)/.exec(p.decoded);
  if (!m) throw new Error(`no TCP line in ${p.name}`);
  return { ports: [Number(m[1]), Number(m[2])], flags: m[3]!, cksum: parseInt(m[4]!, 16), win: Number(m[5]) };
}

function flagLetters(flags: number): string {
  let s = "";
  if (flags & TCP_FIN) s += "F";
  if (flags & TCP_SYN) s += "S";
  if (flags & TCP_RST) s += "R";
  if (flags & TCP_PSH) s += "P";
  if (flags & TCP_ACK) s += ".";
  return s;
}

describe("TcpView over segments captured from the kernel", () => {
  it("reads the SYN field by field", () => {
    const { tcp } = views(fixture(veth, "p1").bytes);
    expect(tcp.validate()).toBe("ok");
    expect(tcp.sourcePort).toBe(33684);
    expect(tcp.destinationPort).toBe(5000);
    expect(tcp.seq).toBe(2877966471);
    expect(tcp.ack).toBe(0);
    expect(tcp.dataOffset).toBe(10);
    expect(tcp.headerLength).toBe(40);
    expect(tcp.reserved).toBe(0);
    expect(tcp.flags).toBe(TCP_SYN);
    expect([tcp.syn, tcp.ackFlag, tcp.fin, tcp.rst, tcp.psh, tcp.urg, tcp.ece, tcp.cwr]).toEqual([
      true, false, false, false, false, false, false, false,
    ]);
    expect(tcp.window).toBe(64480);
    expect(tcp.checksum).toBe(0x4294);
    expect(tcp.urgentPointer).toBe(0);
    expect(tcp.optionsOffset).toBe(40);
    expect(tcp.optionsLength).toBe(20);
    // mss 1240, sackOK, TS, nop, wscale 10
    expect([0, 1, 2, 3].map((i) => tcp.optionByte(i))).toEqual([2, 4, 0x04, 0xd8]);
    expect([4, 5].map((i) => tcp.optionByte(i))).toEqual([4, 2]);
    expect([16, 17, 18, 19].map((i) => tcp.optionByte(i))).toEqual([1, 3, 3, 10]);
    expect(tcp.payloadOffset).toBe(60);
    expect(tcp.payloadLength).toBe(0);
    expect(tcp.verifyChecksum(A, B)).toBe(true);
    expect(tcp.computeChecksum(A, B)).toBe(0x4294);
  });

  it("reads the SYN-ACK and the data segment", () => {
    const synAck = views(fixture(veth, "p2").bytes).tcp;
    expect(synAck.flags).toBe(TCP_SYN | TCP_ACK);
    expect(synAck.seq).toBe(237192864);
    expect(synAck.ack).toBe(2877966472);
    expect(synAck.verifyChecksum(B, A)).toBe(true);
    const data = views(fixture(veth, "p4").bytes).tcp;
    expect(data.flags).toBe(TCP_PSH | TCP_ACK);
    expect(data.headerLength).toBe(32);
    expect(data.payloadLength).toBe(14);
    const text = new TextDecoder().decode(data.buf.subarray(data.payloadOffset, data.payloadOffset + data.payloadLength));
    expect(text).toBe("hello uptables");
    const rst = views(fixture(veth, "p19").bytes).tcp;
    expect(rst.flags).toBe(TCP_RST | TCP_ACK);
    expect(rst.window).toBe(0);
    expect(rst.headerLength).toBe(20);
    expect(rst.verifyChecksum(B, A)).toBe(true);
  });

  it("agrees with tcpdump on ports, flags, window and checksum of every veth segment", () => {
    const list = tcpFixtures(veth);
    expect(list.length).toBe(12);
    for (const p of list) {
      const d = decodedTcp(p);
      const { ip, tcp } = views(p.bytes);
      expect(tcp.validate(), p.name).toBe("ok");
      expect([tcp.sourcePort, tcp.destinationPort], p.name).toEqual(d.ports);
      expect(flagLetters(tcp.flags), p.name).toBe(d.flags);
      expect(tcp.window, p.name).toBe(d.win);
      expect(tcp.checksum, p.name).toBe(d.cksum);
      expect(p.decoded, p.name).toContain("(correct)");
      expect(tcp.verifyChecksum(ip.source, ip.destination), p.name).toBe(true);
      expect(tcp.computeChecksum(ip.source, ip.destination), p.name).toBe(tcp.checksum);
    }
  });

  it("sees loopback's CHECKSUM_PARTIAL: the field holds only the folded pseudo-header sum", () => {
    for (const p of tcpFixtures(loopback)) {
      const { ip, tcp } = views(p.bytes);
      expect(tcp.validate(), p.name).toBe("ok");
      expect(p.decoded, p.name).toContain("incorrect");
      expect(tcp.checksum, p.name).toBe(foldSum(pseudoHeaderSum(ip.source, ip.destination, IPPROTO_TCP, tcp.byteLength)));
      expect(tcp.verifyChecksum(ip.source, ip.destination), p.name).toBe(false);
      const correct = /incorrect -> 0x([0-9a-f]+)/.exec(p.decoded)![1]!;
      expect(tcp.computeChecksum(ip.source, ip.destination), p.name).toBe(parseInt(correct, 16));
    }
  });
});

describe("TcpView rewrites keep the checksum right", () => {
  it("translates a SYN like SNAT + DNAT with port changes", () => {
    const bytes = fixtureCopy(veth, "p1");
    const { ip, tcp } = views(bytes);
    const newSrc = parseIPv4Address("203.0.113.9");
    const newDst = parseIPv4Address("192.168.77.3");
    const oldSrc = ip.source;
    const oldDst = ip.destination;
    ip.setSource(newSrc);
    tcp.updateForAddressChange(oldSrc, newSrc);
    ip.setDestination(newDst);
    tcp.updateForAddressChange(oldDst, newDst);
    tcp.setSourcePort(61000);
    tcp.setDestinationPort(8080);
    expect(ip.validate()).toBe("ok");
    expect(tcp.sourcePort).toBe(61000);
    expect(tcp.destinationPort).toBe(8080);
    expect(tcp.verifyChecksum(newSrc, newDst)).toBe(true);
    expect(tcp.verifyChecksum(oldSrc, oldDst)).toBe(false);
  });

  it("matches a full recomputation after many random rewrites", () => {
    const rng = new Rng(9293);
    const names = tcpFixtures(veth).map((p) => p.name);
    const ip = new Ipv4View();
    const tcp = new TcpView();
    for (let iter = 0; iter < 2000; iter++) {
      const bytes = fixtureCopy(veth, rng.pick(names));
      ip.reset(bytes);
      tcp.reset(bytes, ip.payloadOffset, ip.payloadLength);
      for (let k = 0; k < 1 + rng.int(5); k++) {
        switch (rng.int(8)) {
          case 0: { const old = ip.source; const v = rng.u32(); ip.setSource(v); tcp.updateForAddressChange(old, v); break; }
          case 1: { const old = ip.destination; const v = rng.u32(); ip.setDestination(v); tcp.updateForAddressChange(old, v); break; }
          case 2: tcp.setSourcePort(rng.u16()); break;
          case 3: tcp.setDestinationPort(rng.int(4) === 0 ? 0 : rng.u16()); break;
          case 4: tcp.setSeq(rng.u32()); break;
          case 5: tcp.setAck(rng.u32()); break;
          case 6: tcp.setWindow(rng.u16()); break;
          case 7: tcp.setFlags(rng.u8()); break;
        }
      }
      const incremental = tcp.checksum;
      expect(tcp.computeChecksum(ip.source, ip.destination)).toBe(incremental);
      expect(tcp.verifyChecksum(ip.source, ip.destination)).toBe(true);
      expect(ip.verifyHeaderChecksum()).toBe(true);
      expect(tcp.dataOffset).toBeGreaterThanOrEqual(5);
    }
  });

  it("setFlags keeps the data offset; fillChecksum recomputes", () => {
    const bytes = fixtureCopy(veth, "p3");
    const { tcp } = views(bytes);
    tcp.setFlags(TCP_FIN | TCP_ACK);
    expect(tcp.dataOffset).toBe(8);
    expect(tcp.fin && tcp.ackFlag).toBe(true);
    tcp.setUrgentPointer(7);
    expect(tcp.urgentPointer).toBe(7);
    expect(tcp.verifyChecksum(A, B)).toBe(true);
    tcp.setChecksum(0);
    tcp.fillChecksum(A, B);
    expect(tcp.verifyChecksum(A, B)).toBe(true);
  });
});

describe("TcpView.validate()", () => {
  const seg = (): Uint8Array => buildTcp({ src: A, dst: B, sport: 1, dport: 2, flags: TCP_SYN, payload: "abc" });
  const check = (b: Uint8Array, length?: number): TcpValidation => {
    const ip = new Ipv4View(b);
    return new TcpView(b, ip.payloadOffset, length ?? ip.payloadLength).validate();
  };

  it("truncated: fewer than 20 bytes", () => {
    for (let n = 0; n < 20; n++) expect(check(seg(), n)).toBe("truncated");
    expect(check(seg(), 20)).toBe("ok");
  });

  it("bad-data-offset: data offset below 5", () => {
    for (let doff = 0; doff < 5; doff++) {
      const b = seg();
      b[32] = doff << 4;
      expect(check(b)).toBe("bad-data-offset");
    }
  });

  it("header-truncated: data offset past the segment", () => {
    const b = seg();
    b[32] = 6 << 4; // 24-byte header, 23 bytes in the segment
    expect(check(b)).toBe("header-truncated");
    b[32] = 15 << 4;
    expect(check(b)).toBe("header-truncated");
    b[32] = 5 << 4;
    expect(check(b)).toBe("ok");
  });

  it("never throws on random bytes", () => {
    const rng = new Rng(20);
    const tcp = new TcpView();
    for (let iter = 0; iter < 3000; iter++) {
      const b = rng.bytes(rng.int(64));
      tcp.reset(b, rng.int(8), rng.int(70) - 5);
      tcp.validate();
      void [tcp.seq, tcp.ack, tcp.flags, tcp.payloadLength, tcp.optionsLength, tcp.optionByte(99)];
      tcp.setSourcePort(rng.u16());
      tcp.updateForAddressChange(rng.u32(), rng.u32());
      tcp.verifyChecksum(rng.u32(), rng.u32());
    }
  });
});
