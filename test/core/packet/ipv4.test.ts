import { describe, expect, it } from "vitest";
import { read16, verifyChecksum, write16 } from "../../../src/core/packet/checksum.ts";
import { Ipv4View, IPV4_FLAG_DF, IPV4_FLAG_MF, type Ipv4Validation } from "../../../src/core/packet/ipv4.ts";
import { buildUdp, parseIPv4Address } from "../../../src/core/packet/builder.ts";
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from "../../../src/core/net/protocols.ts";
import { decodedIpHeader, fixture, fixtureCopy, loadPacketFixtures } from "../../support/pcap-fixture.ts";
import { Rng } from "./random.ts";

const veth = loadPacketFixtures("veth.hex");
const loopback = loadPacketFixtures("loopback.hex");
const all = [...veth.values(), ...loopback.values()];
const A = parseIPv4Address("10.55.0.1");
const B = parseIPv4Address("10.55.0.2");

describe("Ipv4View over packets captured from the kernel", () => {
  it("reads the TCP SYN's header field by field", () => {
    const ip = new Ipv4View(fixture(veth, "p1").bytes);
    expect(ip.validate()).toBe("ok");
    expect(ip.version).toBe(4);
    expect(ip.ihl).toBe(5);
    expect(ip.headerLength).toBe(20);
    expect(ip.tos).toBe(0);
    expect(ip.dscp).toBe(0);
    expect(ip.ecn).toBe(0);
    expect(ip.totalLength).toBe(60);
    expect(ip.id).toBe(6530);
    expect(ip.flags).toBe(0b010);
    expect(ip.dontFragment).toBe(true);
    expect(ip.moreFragments).toBe(false);
    expect(ip.fragmentOffset).toBe(0);
    expect(ip.isFragment).toBe(false);
    expect(ip.isFirstFragment).toBe(true);
    expect(ip.ttl).toBe(64);
    expect(ip.protocol).toBe(IPPROTO_TCP);
    expect(ip.headerChecksum).toBe(0x0cca);
    expect(ip.source).toBe(A);
    expect(ip.destination).toBe(B);
    expect(ip.optionsLength).toBe(0);
    expect(ip.payloadOffset).toBe(20);
    expect(ip.payloadLength).toBe(40);
    expect(ip.verifyHeaderChecksum()).toBe(true);
    expect(ip.computeHeaderChecksum()).toBe(0x0cca);
  });

  it("agrees with tcpdump's decoding of every captured packet", () => {
    for (const p of all) {
      const d = decodedIpHeader(p);
      const ip = new Ipv4View(p.bytes);
      expect(ip.validate(), p.name).toBe("ok");
      expect(ip.verifyHeaderChecksum(), p.name).toBe(true);
      expect(ip.computeHeaderChecksum(), p.name).toBe(ip.headerChecksum);
      expect(ip.tos, p.name).toBe(d.tos);
      expect(ip.ttl, p.name).toBe(d.ttl);
      expect(ip.id, p.name).toBe(d.id);
      expect(ip.fragmentByteOffset, p.name).toBe(d.offset);
      expect(ip.protocol, p.name).toBe(d.proto);
      expect(ip.totalLength, p.name).toBe(d.length);
      expect(ip.totalLength, p.name).toBe(p.bytes.length);
      const flags = d.flags === "none" ? [] : d.flags.split("+").length > 1 ? ["MF"] : [d.flags];
      expect(ip.dontFragment, p.name).toBe(flags.includes("DF"));
      expect(ip.moreFragments, p.name).toBe(d.flags === "+");
      expect(ip.optionsLength > 0, p.name).toBe(d.options !== null);
    }
  });

  it("reads the kernel's own ICMP error header (tos 0xc0, no DF)", () => {
    const ip = new Ipv4View(fixture(veth, "p13").bytes);
    expect(ip.tos).toBe(0xc0);
    expect(ip.dscp).toBe(0x30);
    expect(ip.ecn).toBe(0);
    expect(ip.flags).toBe(0);
    expect(ip.protocol).toBe(IPPROTO_ICMP);
    expect(ip.source).toBe(B);
    expect(ip.destination).toBe(A);
  });

  it("reads the two fragments of a datagram larger than the MTU", () => {
    const first = new Ipv4View(fixture(veth, "p14").bytes);
    const second = new Ipv4View(fixture(veth, "p15").bytes);
    expect(first.protocol).toBe(IPPROTO_UDP);
    expect(first.moreFragments).toBe(true);
    expect(first.flagsFragment).toBe(IPV4_FLAG_MF);
    expect(first.fragmentOffset).toBe(0);
    expect(first.isFragment).toBe(true);
    expect(first.isFirstFragment).toBe(true);
    expect(second.moreFragments).toBe(false);
    expect(second.fragmentOffset).toBe(157);
    expect(second.fragmentByteOffset).toBe(1256);
    expect(second.isFragment).toBe(true);
    expect(second.isFirstFragment).toBe(false);
    expect(second.id).toBe(first.id);
    // 8 bytes of UDP header + 2048 bytes of data, split at 1256.
    expect(first.payloadLength + second.payloadLength).toBe(8 + 2048);
  });

  it("reads IP options (Router Alert, IHL 6)", () => {
    const ip = new Ipv4View(fixture(veth, "p16").bytes);
    expect(ip.validate()).toBe("ok");
    expect(ip.ihl).toBe(6);
    expect(ip.headerLength).toBe(24);
    expect(ip.optionsOffset).toBe(20);
    expect(ip.optionsLength).toBe(4);
    expect([0, 1, 2, 3].map((i) => ip.optionByte(i))).toEqual([0x94, 0x04, 0x00, 0x00]);
    expect([...ip.optionsBytes()]).toEqual([0x94, 0x04, 0x00, 0x00]);
    expect(ip.payloadOffset).toBe(24);
    expect(ip.payloadLength).toBe(20);
  });

  it("works at an offset inside a larger buffer and can be re-pointed", () => {
    const syn = fixture(veth, "p1").bytes;
    const big = new Uint8Array(syn.length + 50);
    big.set(syn, 14);
    const ip = new Ipv4View();
    expect(ip.reset(big, 14, syn.length).validate()).toBe("ok");
    expect(ip.source).toBe(A);
    expect(ip.payloadOffset).toBe(34);
    // Trailing bytes (link-layer padding) are fine: the kernel trims them.
    expect(ip.reset(big, 14).validate()).toBe("ok");
    expect(ip.byteLength).toBe(big.length - 14);
    ip.reset(fixture(veth, "p2").bytes);
    expect(ip.source).toBe(B);
  });
});

describe("Ipv4View setters keep the header checksum right", () => {
  it("sets TTL, addresses, TOS, id, flags and protocol", () => {
    const bytes = fixtureCopy(veth, "p1");
    const ip = new Ipv4View(bytes);
    ip.setTtl(1);
    expect(ip.ttl).toBe(1);
    expect(ip.protocol).toBe(IPPROTO_TCP);
    expect(ip.decrementTtl()).toBe(0);
    expect(ip.decrementTtl()).toBe(0);
    ip.setSource(parseIPv4Address("192.0.2.7"));
    ip.setDestination(parseIPv4Address("198.51.100.200"));
    expect(ip.source).toBe(0xc0000207);
    expect(ip.destination).toBe(0xc63364c8);
    ip.setTos(0xb8);
    ip.setEcn(3);
    expect(ip.tos).toBe(0xbb);
    ip.setDscp(0x0a);
    expect(ip.tos).toBe(0x2b);
    ip.setId(0xbeef);
    ip.setDontFragment(false);
    expect(ip.dontFragment).toBe(false);
    ip.setFlagsFragment(IPV4_FLAG_DF | 3);
    expect(ip.fragmentOffset).toBe(3);
    ip.setProtocol(IPPROTO_UDP);
    ip.setTotalLength(60);
    expect(ip.version).toBe(4);
    expect(ip.verifyHeaderChecksum()).toBe(true);
    expect(ip.validate()).toBe("ok");
  });

  it("matches a full recomputation after many random rewrites", () => {
    const rng = new Rng(791);
    const ip = new Ipv4View();
    const names = [...veth.keys()];
    for (let iter = 0; iter < 2000; iter++) {
      const bytes = fixtureCopy(veth, rng.pick(names));
      ip.reset(bytes);
      for (let k = 0; k < 1 + rng.int(4); k++) {
        switch (rng.int(7)) {
          case 0: ip.setTtl(rng.u8()); break;
          case 1: ip.setSource(rng.u32()); break;
          case 2: ip.setDestination(rng.u32()); break;
          case 3: ip.setTos(rng.u8()); break;
          case 4: ip.setId(rng.u16()); break;
          case 5: ip.decrementTtl(); break;
          case 6: ip.setProtocol(rng.u8()); break;
        }
      }
      const incremental = ip.headerChecksum;
      ip.fillHeaderChecksum();
      expect(incremental).toBe(ip.headerChecksum);
      expect(ip.validate()).toBe("ok");
    }
  });

  it("fills the checksum from scratch and accepts a stored one as is", () => {
    const bytes = fixtureCopy(veth, "p16");
    const ip = new Ipv4View(bytes);
    const good = ip.headerChecksum;
    ip.setHeaderChecksum(0x1234);
    expect(ip.validate()).toBe("bad-checksum");
    expect(ip.computeHeaderChecksum()).toBe(good);
    ip.fillHeaderChecksum();
    expect(ip.headerChecksum).toBe(good);
  });
});

describe("Ipv4View.validate() drops where ip_rcv_core() does, never throws", () => {
  const good = (): Uint8Array => buildUdp({ src: A, dst: B, sport: 1, dport: 2, payload: "0123456789" });
  const refill = (b: Uint8Array): Uint8Array => {
    new Ipv4View(b).fillHeaderChecksum();
    return b;
  };
  const check = (b: Uint8Array, length = b.length): Ipv4Validation => new Ipv4View(b, 0, length).validate();

  it("is ok for a well-formed packet", () => {
    expect(check(good())).toBe("ok");
  });

  it("truncated: fewer than 20 bytes", () => {
    const b = good();
    for (let n = 0; n < 20; n++) expect(check(b, n)).toBe("truncated");
    expect(check(new Uint8Array(0))).toBe("truncated");
  });

  it("bad-ihl: IHL below 5, checked before the version like the kernel", () => {
    for (let ihl = 0; ihl < 5; ihl++) {
      const b = good();
      b[0] = 0x40 | ihl;
      expect(check(b)).toBe("bad-ihl");
    }
    const both = good();
    both[0] = 0x63;
    expect(check(both)).toBe("bad-ihl");
  });

  it("bad-version: anything but 4", () => {
    for (const v of [0, 1, 5, 6, 15]) {
      const b = refill(good());
      b[0] = (v << 4) | 5;
      expect(check(b)).toBe("bad-version");
    }
  });

  it("header-truncated: IHL reaches past the bytes there", () => {
    const b = good();
    b[0] = 0x4f; // 60-byte header, 38 bytes in the packet
    expect(check(b)).toBe("header-truncated");
    const c = refill(good());
    expect(check(c, 20)).toBe("total-length-too-long");
    c[0] = 0x46;
    expect(check(c, 23)).toBe("header-truncated");
  });

  it("bad-checksum: any wrong header checksum, before the length checks", () => {
    const b = good();
    write16(b, 10, read16(b, 10) ^ 0x0100);
    expect(check(b)).toBe("bad-checksum");
    const c = good();
    c[8] = 1; // TTL changed without the checksum
    expect(check(c)).toBe("bad-checksum");
    const d = good();
    write16(d, 2, 1000); // a lying total length, but the checksum is checked first
    expect(check(d)).toBe("bad-checksum");
  });

  it("total-length-too-long: the header claims more than was received", () => {
    const b = good();
    write16(b, 2, b.length + 1);
    refill(b);
    expect(check(b)).toBe("total-length-too-long");
    const c = good();
    expect(check(c, c.length - 1)).toBe("total-length-too-long");
  });

  it("total-length-too-short: below the header length", () => {
    for (const total of [0, 1, 19]) {
      const b = good();
      write16(b, 2, total);
      refill(b);
      expect(check(b)).toBe("total-length-too-short");
    }
    const c = good();
    c[0] = 0x46;
    write16(c, 2, 22);
    refill(c);
    expect(check(c)).toBe("total-length-too-short");
    write16(c, 2, 24);
    refill(c);
    expect(check(c)).toBe("ok");
  });

  it("never throws on random bytes, truncations or odd view bounds", () => {
    const rng = new Rng(4242);
    const ip = new Ipv4View();
    const reasons = new Set<string>();
    for (let iter = 0; iter < 5000; iter++) {
      const bytes = rng.int(3) === 0 ? fixtureCopy(veth, rng.pick([...veth.keys()])) : rng.bytes(rng.int(80));
      if (rng.int(2) === 0 && bytes.length > 0) bytes[rng.int(bytes.length)] = rng.u8();
      if (rng.int(3) === 0 && bytes.length > 0) bytes[0] = 0x40 | (bytes[0]! & 0x0f);
      ip.reset(bytes, rng.int(bytes.length + 5) - 2, rng.int(bytes.length + 10) - 3);
      reasons.add(ip.validate());
      // Every getter and setter copes with whatever is there.
      void [ip.version, ip.ihl, ip.totalLength, ip.source, ip.destination, ip.payloadLength, ip.optionByte(50)];
      ip.setTtl(rng.u8());
      ip.setSource(rng.u32());
      ip.validateQuoted();
    }
    expect([...reasons].sort()).toEqual(
      ["bad-checksum", "bad-ihl", "bad-version", "header-truncated", "ok", "total-length-too-long", "truncated"].sort(),
    );
  });

  it("clamps view bounds to the buffer", () => {
    const b = good();
    const ip = new Ipv4View(b, -5, 1000);
    expect(ip.offset).toBe(0);
    expect(ip.byteLength).toBe(b.length);
    ip.reset(b, b.length + 3, 10);
    expect(ip.offset).toBe(b.length);
    expect(ip.byteLength).toBe(0);
    expect(ip.validate()).toBe("truncated");
  });
});

describe("Ipv4View.validateQuoted() for headers inside ICMP errors", () => {
  it("checks only what a truncated quote can have", () => {
    const b = fixtureCopy(veth, "p12");
    const ip = new Ipv4View(b, 0, 28);
    expect(ip.validate()).toBe("total-length-too-long");
    expect(ip.validateQuoted()).toBe("ok");
    b[10] ^= 0xff;
    expect(ip.validateQuoted()).toBe("ok");
    expect(ip.reset(b, 0, 19).validateQuoted()).toBe("truncated");
    b[0] = 0x44;
    expect(ip.reset(b).validateQuoted()).toBe("bad-ihl");
    b[0] = 0x65;
    expect(ip.validateQuoted()).toBe("bad-version");
    b[0] = 0x4f;
    expect(ip.validateQuoted()).toBe("header-truncated");
  });
});

describe("Ipv4View.validate: the unrolled checksum of option-less headers", () => {
  it("agrees with the general Internet checksum on random headers, right or wrong", () => {
    const rng = new Rng(20261123);
    let good = 0;
    for (let n = 0; n < 20000; n++) {
      const buf = new Uint8Array(20);
      for (let i = 0; i < 20; i++) buf[i] = rng.int(256);
      buf[0] = 0x45;
      write16(buf, 2, 20 + rng.int(2));
      const view = new Ipv4View(buf);
      // Half the headers get a right checksum, so both outcomes are exercised.
      if (n % 2 === 0) view.fillHeaderChecksum();
      const sumOk = verifyChecksum(buf, 0, 20);
      const result: Ipv4Validation = view.validate();
      expect(result === "bad-checksum").toBe(!sumOk);
      if (sumOk) good++;
    }
    expect(good).toBeGreaterThanOrEqual(10000);
  });
});
