import { describe, expect, it } from "vitest";
import { write16 } from "../../../src/core/packet/checksum.ts";
import { Ipv4View } from "../../../src/core/packet/ipv4.ts";
import {
  ICMP_DEST_UNREACH,
  ICMP_ECHO,
  ICMP_ECHO_REPLY,
  ICMP_FRAG_NEEDED,
  ICMP_PARAMETER_PROBLEM,
  ICMP_PORT_UNREACH,
  ICMP_REDIRECT,
  ICMP_TIME_EXCEEDED,
  IcmpView,
  isIcmpError,
  isIcmpQuery,
} from "../../../src/core/packet/icmp.ts";
import { TCP_SYN } from "../../../src/core/packet/tcp.ts";
import { buildIcmpEcho, buildIcmpError, buildTcp, buildUdp, parseIPv4Address } from "../../../src/core/packet/builder.ts";
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from "../../../src/core/net/protocols.ts";
import { fixture, fixtureCopy, loadPacketFixtures } from "../../support/pcap-fixture.ts";
import { Rng } from "./random.ts";

const veth = loadPacketFixtures("veth.hex");
const A = parseIPv4Address("10.55.0.1");
const B = parseIPv4Address("10.55.0.2");

function views(bytes: Uint8Array): { ip: Ipv4View; icmp: IcmpView } {
  const ip = new Ipv4View(bytes);
  return { ip, icmp: new IcmpView(bytes, ip.payloadOffset, ip.payloadLength) };
}

/** Everything a NAT reply translation leaves consistent, checked from scratch. */
function expectConsistent(icmp: IcmpView): void {
  const check = icmp.checksum;
  expect(icmp.computeChecksum()).toBe(check);
  expect(icmp.verifyChecksum()).toBe(true);
  expect(icmp.inner.verifyHeaderChecksum()).toBe(true);
}

describe("IcmpView over messages captured from the kernel", () => {
  it("reads the echo request and the kernel's echo reply", () => {
    for (const [name, type, src, dst] of [["p20", ICMP_ECHO, A, B], ["p21", ICMP_ECHO_REPLY, B, A]] as const) {
      const { ip, icmp } = views(fixture(veth, name).bytes);
      expect(ip.protocol).toBe(IPPROTO_ICMP);
      expect([ip.source, ip.destination]).toEqual([src, dst]);
      expect(icmp.validate(), name).toBe("ok");
      expect(icmp.type, name).toBe(type);
      expect(icmp.code, name).toBe(0);
      expect(icmp.isQuery && !icmp.isError, name).toBe(true);
      expect(icmp.identifier, name).toBe(0x1234);
      expect(icmp.sequence, name).toBe(1);
      expect(icmp.payloadLength, name).toBe(18);
      expect(new TextDecoder().decode(icmp.buf.subarray(icmp.payloadOffset)), name).toBe("uptables ping data");
      expect(icmp.verifyChecksum(), name).toBe(true);
      expect(icmp.computeChecksum(), name).toBe(icmp.checksum);
      expect(icmp.openInner(), name).toBe("not-error");
    }
  });

  it("opens the port unreachable the kernel sent for a UDP datagram to a closed port", () => {
    const { icmp } = views(fixture(veth, "p13").bytes);
    const offending = fixture(veth, "p12").bytes;
    expect(icmp.validate()).toBe("ok");
    expect(icmp.type).toBe(ICMP_DEST_UNREACH);
    expect(icmp.code).toBe(ICMP_PORT_UNREACH);
    expect(icmp.isError).toBe(true);
    expect(icmp.restOfHeader).toBe(0);
    expect(icmp.verifyChecksum()).toBe(true);
    // Linux quotes the whole 47-byte datagram.
    expect(icmp.payloadLength).toBe(offending.length);
    expect([...icmp.buf.subarray(icmp.payloadOffset)]).toEqual([...offending]);

    expect(icmp.openInner()).toBe("ok");
    const inner = icmp.inner;
    expect(inner.offset).toBe(28);
    expect(inner.validate()).toBe("ok");
    expect([inner.source, inner.destination, inner.protocol, inner.id, inner.totalLength]).toEqual([A, B, IPPROTO_UDP, 2748, 47]);
    expect(icmp.innerTransportLength).toBe(27);
    const udp = icmp.innerUdp;
    expect([udp.sourcePort, udp.destinationPort, udp.udpLength]).toEqual([33228, 5002, 27]);
    expect(udp.validate()).toBe("ok");
    expect(udp.verifyChecksum(inner.source, inner.destination)).toBe(true);
  });

  it("opens the port unreachable quoting a header with options", () => {
    const { icmp } = views(fixture(veth, "p17").bytes);
    expect(icmp.openInner()).toBe("ok");
    expect(icmp.inner.ihl).toBe(6);
    expect(icmp.inner.optionByte(0)).toBe(0x94);
    expect(icmp.innerUdp.offset).toBe(20 + 8 + 24);
    expect(icmp.innerUdp.destinationPort).toBe(5002);
    expect(icmp.innerUdp.verifyChecksum(A, B)).toBe(true);
  });
});

describe("IcmpView rewrites keep every checksum right", () => {
  it("rewrites the echo identifier (NAT of ICMP queries)", () => {
    const bytes = fixtureCopy(veth, "p20");
    const { icmp } = views(bytes);
    icmp.setIdentifier(0xabcd);
    icmp.setSequence(77);
    expect(icmp.identifier).toBe(0xabcd);
    expect(icmp.sequence).toBe(77);
    expect(icmp.verifyChecksum()).toBe(true);
  });

  it("translates the kernel's port unreachable back (un-DNAT of the quoted datagram)", () => {
    const bytes = fixtureCopy(veth, "p13");
    const { ip, icmp } = views(bytes);
    // Pretend the original went out SNATed from 10.55.0.1:33228 as 198.51.100.4:1234.
    const outside = parseIPv4Address("198.51.100.4");
    expect(icmp.openInner()).toBe("ok");
    expect(icmp.setInnerSource(outside)).toBe(true);
    expect(icmp.setInnerSourcePort(1234)).toBe(true);
    expect(icmp.setInnerDestinationPort(53)).toBe(true);
    expect(icmp.inner.source).toBe(outside);
    expect(icmp.innerUdp.sourcePort).toBe(1234);
    expect(icmp.innerUdp.destinationPort).toBe(53);
    expectConsistent(icmp);
    // The whole datagram was quoted, so its UDP checksum can be checked against the new addresses.
    expect(icmp.innerUdp.verifyChecksum(outside, B)).toBe(true);
    // The outer header is the engine's business, and untouched here.
    expect(ip.validate()).toBe("ok");
  });

  it("matches a full recomputation after many random inner rewrites", () => {
    const rng = new Rng(792);
    const icmp = new IcmpView();
    const ip = new Ipv4View();
    for (let iter = 0; iter < 1500; iter++) {
      const offending = rng.pick([
        () => fixtureCopy(veth, rng.pick(["p12", "p16", "p11"])),
        () => buildUdp({ src: rng.u32(), dst: rng.u32(), sport: rng.u16(), dport: rng.u16(), payload: rng.bytes(rng.int(30)) }),
        () => buildTcp({ src: rng.u32(), dst: rng.u32(), sport: rng.u16(), dport: rng.u16(), flags: TCP_SYN, seq: rng.u32(), payload: rng.bytes(rng.int(30)) }),
        () => buildIcmpEcho({ src: rng.u32(), dst: rng.u32(), identifier: rng.u16(), sequence: rng.u16(), payload: rng.bytes(rng.int(30)) }),
      ])();
      const offIp = new Ipv4View(offending);
      // Quote everything, or cut the quote short (8 transport bytes and up).
      const quote = rng.int(2) === 0 ? offending.length : offIp.headerLength + 8 + rng.int(offending.length - offIp.headerLength - 7);
      const type = rng.pick([ICMP_DEST_UNREACH, ICMP_TIME_EXCEEDED, ICMP_PARAMETER_PROBLEM]);
      const bytes = buildIcmpError(type, rng.int(4), offending, { quoteLength: quote });
      ip.reset(bytes);
      icmp.reset(bytes, ip.payloadOffset, ip.payloadLength);
      expect(icmp.openInner()).toBe("ok");
      const protocol = icmp.inner.protocol;
      const fullQuote = quote === offending.length;
      for (let k = 0; k < 1 + rng.int(5); k++) {
        switch (rng.int(5)) {
          case 0: icmp.setInnerSource(rng.u32()); break;
          case 1: icmp.setInnerDestination(rng.u32()); break;
          case 2: expect(icmp.setInnerSourcePort(rng.u16())).toBe(protocol !== IPPROTO_ICMP); break;
          case 3: expect(icmp.setInnerDestinationPort(rng.u16())).toBe(protocol !== IPPROTO_ICMP); break;
          case 4: expect(icmp.setInnerIcmpIdentifier(rng.u16())).toBe(protocol === IPPROTO_ICMP); break;
        }
      }
      expectConsistent(icmp);
      const inner = icmp.inner;
      if (fullQuote && protocol === IPPROTO_TCP) expect(icmp.innerTcp.verifyChecksum(inner.source, inner.destination)).toBe(true);
      if (fullQuote && protocol === IPPROTO_UDP) expect(icmp.innerUdp.verifyChecksum(inner.source, inner.destination)).toBe(true);
      if (fullQuote && protocol === IPPROTO_ICMP) expect(icmp.innerIcmp.verifyChecksum()).toBe(true);
    }
  });

  it("leaves a quoted TCP checksum alone when only 8 transport bytes were quoted", () => {
    const syn = buildTcp({ src: A, dst: B, sport: 4000, dport: 80, flags: TCP_SYN, seq: 1 });
    const bytes = buildIcmpError(ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, syn, { quoteLength: 28, rest: 1400 });
    const { icmp } = views(bytes);
    expect(icmp.nextHopMtu).toBe(1400);
    expect(icmp.openInner()).toBe("ok");
    expect(icmp.innerTransportLength).toBe(8);
    expect(icmp.innerTcp.validate()).toBe("truncated");
    expect(icmp.innerTcp.seq).toBe(1);
    const before = [...bytes.subarray(bytes.length - 8)];
    expect(icmp.setInnerSourcePort(5555)).toBe(true);
    expect(icmp.setInnerDestination(parseIPv4Address("192.0.2.1"))).toBe(true);
    expect(icmp.innerTcp.sourcePort).toBe(5555);
    expect([...bytes.subarray(bytes.length - 4)]).toEqual(before.slice(4)); // seq untouched
    expect(bytes.length).toBe(20 + 8 + 28); // nothing written past the quote
    expectConsistent(icmp);
  });

  it("leaves a quoted UDP checksum of zero at zero", () => {
    const dgram = buildUdp({ src: A, dst: B, sport: 1, dport: 2, payload: "x", checksum: false });
    const { icmp } = views(buildIcmpError(ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, dgram));
    expect(icmp.openInner()).toBe("ok");
    icmp.setInnerSource(parseIPv4Address("192.0.2.1"));
    icmp.setInnerSourcePort(999);
    expect(icmp.innerUdp.checksum).toBe(0);
    expectConsistent(icmp);
  });

  it("rewrite16/rewrite32 work at odd offsets in the message", () => {
    const rng = new Rng(5);
    for (let iter = 0; iter < 300; iter++) {
      const bytes = buildIcmpEcho({ src: A, dst: B, identifier: 1, sequence: 2, payload: rng.bytes(20) });
      const { icmp } = views(bytes);
      const at = icmp.offset + 8 + rng.int(14);
      if (rng.int(2) === 0) icmp.rewrite16(at, rng.u16());
      else icmp.rewrite32(at, rng.u32());
      expect(icmp.verifyChecksum()).toBe(true);
      expect(icmp.computeChecksum()).toBe(icmp.checksum);
    }
  });

  it("does nothing (and says so) when the quote was not opened", () => {
    const bytes = fixtureCopy(veth, "p13");
    const before = [...bytes];
    const { icmp } = views(bytes);
    expect(icmp.setInnerSource(1)).toBe(false);
    expect(icmp.setInnerDestinationPort(1)).toBe(false);
    expect(icmp.setInnerIcmpIdentifier(1)).toBe(false);
    expect(icmp.openInner()).toBe("ok");
    icmp.reset(bytes, 20, 55);
    expect(icmp.setInnerSource(1)).toBe(false);
    expect([...bytes]).toEqual(before);
  });
});

describe("IcmpView validation", () => {
  it("validate(): truncated below 8 bytes, bad-type above 18", () => {
    const bytes = fixtureCopy(veth, "p20");
    const icmp = new IcmpView(bytes, 20, 7);
    expect(icmp.validate()).toBe("truncated");
    expect(icmp.openInner()).toBe("truncated");
    icmp.reset(bytes, 20);
    expect(icmp.validate()).toBe("ok");
    bytes[20] = 19;
    expect(icmp.validate()).toBe("bad-type");
    bytes[20] = 18;
    expect(icmp.validate()).toBe("ok");
  });

  it("openInner(): says why a quote is unusable", () => {
    const syn = buildTcp({ src: A, dst: B, sport: 4000, dport: 80, flags: TCP_SYN });
    const open = (mutate: (quote: Uint8Array) => void, quoteLength = syn.length): string => {
      const copy = syn.slice();
      mutate(copy);
      const { icmp } = views(buildIcmpError(ICMP_TIME_EXCEEDED, 0, copy, { quoteLength }));
      return icmp.openInner();
    };
    expect(open(() => {})).toBe("ok");
    expect(open(() => {}, 19)).toBe("inner-truncated");
    expect(open((q) => { q[0] = 0x44; })).toBe("inner-bad-ihl");
    expect(open((q) => { q[0] = 0x65; })).toBe("inner-bad-version");
    expect(open((q) => { q[0] = 0x4f; })).toBe("inner-header-truncated");
    expect(open((q) => { write16(q, 6, 0x2001); })).toBe("inner-fragment");
    expect(open((q) => { write16(q, 6, 0x2000); })).toBe("ok"); // MF alone: the first fragment
    expect(open(() => {}, 27)).toBe("inner-transport-truncated");
    expect(open((q) => { q[9] = 47; }, 21)).toBe("ok"); // GRE: no ports needed
  });

  it("classifies types like the kernel", () => {
    expect([3, 4, 5, 11, 12].every(isIcmpError)).toBe(true);
    expect([0, 8, 9, 10, 13, 14, 15, 16, 17, 18].some(isIcmpError)).toBe(false);
    expect([0, 8, 13, 14, 15, 16, 17, 18].every(isIcmpQuery)).toBe(true);
    expect([3, 5, 9, 10, 11].some(isIcmpQuery)).toBe(false);
    const redirect = views(buildIcmpError(ICMP_REDIRECT, 1, fixture(veth, "p11").bytes, { rest: 0x0a370063 })).icmp;
    expect(redirect.gateway).toBe(0x0a370063);
    const problem = views(buildIcmpError(ICMP_PARAMETER_PROBLEM, 0, fixture(veth, "p11").bytes, { rest: 0x09000000 })).icmp;
    expect(problem.pointer).toBe(9);
  });

  it("never throws on random bytes", () => {
    const rng = new Rng(22);
    const icmp = new IcmpView();
    for (let iter = 0; iter < 5000; iter++) {
      const b = rng.int(2) === 0 ? rng.bytes(rng.int(80)) : fixtureCopy(veth, rng.pick(["p13", "p17", "p20"]));
      if (b.length > 0) b[rng.int(b.length)] = rng.u8();
      if (rng.int(2) === 0 && b.length > 0) b[0] = rng.pick([3, 4, 5, 11, 12]);
      icmp.reset(b, rng.int(3) === 0 ? 20 : rng.int(10), rng.int(90) - 5);
      icmp.validate();
      icmp.openInner();
      void [icmp.identifier, icmp.gateway, icmp.innerTransportLength, icmp.inner.source];
      icmp.setInnerSource(rng.u32());
      icmp.setInnerSourcePort(rng.u16());
      icmp.setInnerIcmpIdentifier(rng.u16());
      icmp.verifyChecksum();
    }
  });
});
