import { describe, expect, it } from "vitest";
import {
  checksumUpdate16,
  checksumUpdate16Odd,
  checksumUpdate32,
  foldSum,
  internetChecksum,
  pseudoHeaderSum,
  read16,
  read32,
  sumBytes,
  swap16,
  udpChecksumUpdate16,
  udpChecksumUpdate32,
  verifyChecksum,
  write16,
  write32,
} from "../../../src/core/packet/checksum.ts";
import { Rng } from "./random.ts";

const hex = (s: string): Uint8Array => Uint8Array.from(s.replace(/\s+/g, "").match(/../g)!.map((b) => parseInt(b, 16)));

describe("Internet checksum (RFC 1071)", () => {
  it("sums the RFC 1071 section 3 example to 0xddf2", () => {
    // RFC 1071 3: bytes 00 01 f2 03 f4 f5 f6 f7 have the one's-complement sum ddf2.
    const data = hex("0001 f203 f4f5 f6f7");
    expect(foldSum(sumBytes(data, 0, data.length))).toBe(0xddf2);
    expect(internetChecksum(data, 0, data.length)).toBe(0x220d);
  });

  it("gives the known checksum of a sample IPv4 header", () => {
    // 192.168.0.1 -> 192.168.0.199, UDP, total length 0x73: the classic b861 example.
    const header = hex("4500 0073 0000 4000 4011 0000 c0a8 0001 c0a8 00c7");
    expect(internetChecksum(header, 0, 20)).toBe(0xb861);
    write16(header, 10, 0xb861);
    expect(verifyChecksum(header, 0, 20)).toBe(true);
    header[8] = 0x3f;
    expect(verifyChecksum(header, 0, 20)).toBe(false);
  });

  it("pads an odd final byte with zero", () => {
    expect(foldSum(sumBytes(hex("0102 03"), 0, 3))).toBe(0x0102 + 0x0300);
    expect(internetChecksum(hex("ff"), 0, 1)).toBe(0x00ff);
  });

  it("works at any offset and chains through the initial sum", () => {
    const rng = new Rng(1071);
    for (let i = 0; i < 200; i++) {
      const data = rng.bytes(1 + rng.int(300));
      const cut = 2 * rng.int(Math.floor(data.length / 2) + 1);
      const whole = sumBytes(data, 0, data.length);
      const chained = sumBytes(data, cut, data.length - cut, sumBytes(data, 0, cut));
      expect(foldSum(chained)).toBe(foldSum(whole));
      const shifted = new Uint8Array(data.length + 7);
      shifted.set(data, 7);
      expect(internetChecksum(shifted, 7, data.length)).toBe(internetChecksum(data, 0, data.length));
    }
  });

  it("treats empty and negative ranges as nothing", () => {
    expect(sumBytes(hex("ffff"), 0, 0, 5)).toBe(5);
    expect(sumBytes(hex("ffff"), 0, -3, 5)).toBe(5);
    expect(internetChecksum(new Uint8Array(0), 0, 0)).toBe(0xffff);
  });

  it("folds large sums with end-around carry", () => {
    expect(foldSum(0x1ffff)).toBe(0x0001);
    expect(foldSum(0xffff)).toBe(0xffff);
    // Folding keeps the value modulo 0xffff, with 0xffff standing for zero.
    const rng = new Rng(3);
    for (let i = 0; i < 1000; i++) {
      const x = 1 + rng.u32() * 4096 + rng.int(4096);
      expect(foldSum(x)).toBe(x % 0xffff || 0xffff);
    }
    const big = new Uint8Array(200_000).fill(0xff);
    expect(internetChecksum(big, 0, big.length)).toBe(0);
  });

  it("computes the pseudo-header sum", () => {
    // 10.55.0.1 -> 10.55.0.2, TCP, 40 bytes.
    expect(foldSum(pseudoHeaderSum(0x0a370001, 0x0a370002, 6, 40))).toBe(0x0a37 + 1 + 0x0a37 + 2 + 6 + 40);
    // The sum the kernel leaves in a CHECKSUM_PARTIAL loopback SYN (127.0.0.1 both ways, 40 bytes).
    expect(foldSum(pseudoHeaderSum(0x7f000001, 0x7f000001, 6, 40))).toBe(0xfe30);
  });
});

describe("incremental update (RFC 1624)", () => {
  it("follows the RFC 1624 section 4 example with eqn. 3", () => {
    // Other header words sum to 0xcd7a; m = 0x5555 becomes 0x3285. HC = 0xdd2f; eqn. 3 gives 0x0000
    // (the value a recomputation gives), where eqn. 2 would give 0xffff.
    expect(checksumUpdate16(0xdd2f, 0x5555, 0x3285)).toBe(0x0000);
    expect(~foldSum(0xcd7a + 0x3285) & 0xffff).toBe(0x0000);
  });

  it("equals a full recomputation for random 16- and 32-bit changes", () => {
    const rng = new Rng(1624);
    for (let iter = 0; iter < 3000; iter++) {
      const len = 4 + 2 * rng.int(40);
      const data = rng.bytes(len);
      data[0] = 0x45; // keep the data non-zero, as any real header is
      const checkAt = 2 * rng.int(len / 2);
      write16(data, checkAt, 0);
      write16(data, checkAt, internetChecksum(data, 0, len));
      let fieldAt = 2 * rng.int(len / 2 - 1);
      if (fieldAt === checkAt || fieldAt + 2 === checkAt) fieldAt = checkAt === 0 ? 4 : 0;
      if (fieldAt + 4 > len || fieldAt === checkAt || fieldAt + 2 === checkAt) continue;
      const wide = rng.int(2) === 0;
      const check = read16(data, checkAt);
      let incremental: number;
      if (wide) {
        const old = read32(data, fieldAt);
        const value = rng.int(8) === 0 ? old : rng.u32();
        write32(data, fieldAt, value);
        incremental = checksumUpdate32(check, old, value);
      } else {
        const old = read16(data, fieldAt);
        const value = rng.int(8) === 0 ? 0 : rng.u16();
        write16(data, fieldAt, value);
        incremental = checksumUpdate16(check, old, value);
      }
      write16(data, checkAt, 0);
      expect(incremental).toBe(internetChecksum(data, 0, len));
      write16(data, checkAt, incremental);
      expect(verifyChecksum(data, 0, len)).toBe(true);
    }
  });

  it("handles a 16-bit value at an odd offset by counting it byte-swapped", () => {
    const rng = new Rng(7);
    for (let iter = 0; iter < 500; iter++) {
      const len = 12 + 2 * rng.int(20);
      const data = rng.bytes(len);
      data[0] = 0x45;
      write16(data, 2, 0);
      write16(data, 2, internetChecksum(data, 0, len));
      const at = 5 + 2 * rng.int((len - 6) / 2);
      const old = read16(data, at);
      const value = rng.u16();
      write16(data, at, value);
      const updated = checksumUpdate16Odd(read16(data, 2), old, value);
      write16(data, 2, 0);
      expect(updated).toBe(internetChecksum(data, 0, len));
    }
    expect(swap16(0x1234)).toBe(0x3412);
  });

  it("applies UDP's rules: zero means none, a computed zero is sent as 0xffff", () => {
    expect(udpChecksumUpdate16(0, 0x1234, 0x4321)).toBe(0);
    expect(udpChecksumUpdate32(0, 0x0a000001, 0xc0a80001)).toBe(0);
    expect(udpChecksumUpdate16(0xdd2f, 0x5555, 0x3285)).toBe(0xffff);
    expect(udpChecksumUpdate16(0x1234, 0x5555, 0x5556)).toBe(checksumUpdate16(0x1234, 0x5555, 0x5556));
    // A stored 0xffff (a computed zero) keeps working as the value it stands for.
    expect(udpChecksumUpdate16(0xffff, 0x0001, 0x0001)).toBe(0xffff);
  });

  it("reads and writes network byte order, unsigned", () => {
    const b = new Uint8Array(6);
    write32(b, 1, 0xfedcba98);
    expect([...b]).toEqual([0, 0xfe, 0xdc, 0xba, 0x98, 0]);
    expect(read32(b, 1)).toBe(0xfedcba98);
    expect(read16(b, 1)).toBe(0xfedc);
    write16(b, 4, 0x1ff01);
    expect(read16(b, 4)).toBe(0xff01);
  });
});
