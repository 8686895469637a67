// -j TCPMSS in the engine: the MSS option lowered (never raised), added when missing, checksums kept
// right. The cases follow what Linux 6.18 did to SYNs forwarded between veth pairs.
import { describe, expect, it } from "vitest";
import { buildTcp } from "../../../../src/core/packet/builder.ts";
import { engineFor, rulesFromCommands } from "../../../support/engine.ts";
import { ROUTER, decodePacket, receive } from "./engine-support.ts";

const SYN = 0x02;
const ACK = 0x10;

function clamping(option: string, match = "--tcp-flags SYN,RST SYN") {
  return engineFor(rulesFromCommands([`iptables -t mangle -A FORWARD -p tcp ${match} -j TCPMSS ${option}`]), ROUTER);
}

const syn = (options: number[], extra: Partial<Parameters<typeof buildTcp>[0]> = {}) =>
  buildTcp({ src: "10.0.0.5", dst: "198.51.100.7", sport: 40000, dport: 80, flags: SYN, seq: 1, window: 1000, options, ...extra });

/** The MSS option of a segment, or null. */
function mssOf(bytes: Uint8Array): number | null {
  const { tcp } = decodePacket(bytes);
  for (let i = 0; i + 3 < tcp.optionsLength; ) {
    const kind = tcp.optionByte(i);
    if (kind === 2) return (tcp.optionByte(i + 2) << 8) | tcp.optionByte(i + 3);
    i += kind <= 1 ? 1 : tcp.optionByte(i + 1) || 1;
  }
  return null;
}

function checksumsOk(bytes: Uint8Array): void {
  const d = decodePacket(bytes);
  expect(d.ipChecksumOk).toBe(true);
  expect(d.tcpChecksumOk).toBe(true);
}

describe("TCPMSS --set-mss", () => {
  it("lowers a larger MSS, fixing the checksum", () => {
    const out = receive(clamping("--set-mss 1000"), syn([2, 4, 0x05, 0xb4, 1, 1, 4, 2]), "eth1");
    expect(out.accepted).toBe(true);
    expect(mssOf(out.packet)).toBe(1000);
    expect(out.packet.length).toBe(48);
    checksumsOk(out.packet);
  });

  it("never raises a smaller MSS", () => {
    const packet = syn([2, 4, 0x03, 0x00]);
    const out = receive(clamping("--set-mss 1000"), packet, "eth1");
    expect(mssOf(out.packet)).toBe(768);
    checksumsOk(out.packet);
  });

  it("finds the option after NOPs, at an odd offset too, and keeps the checksum right there", () => {
    const out = receive(clamping("--set-mss 1200"), syn([1, 2, 4, 0x23, 0x28, 1, 1, 1]), "eth1");
    expect(mssOf(out.packet)).toBe(1200);
    checksumsOk(out.packet);
  });

  it("adds an MSS option of at most 536 first when there is none, growing the packet", () => {
    const out = receive(clamping("--set-mss 1000"), syn([1, 1, 4, 2]), "eth1", 64);
    expect(out.packet.length).toBe(48);
    const d = decodePacket(out.packet);
    expect(d.ip.totalLength).toBe(48);
    expect(d.tcp.headerLength).toBe(28);
    expect([...out.packet.subarray(40, 48)]).toEqual([2, 4, 0x02, 0x18, 1, 1, 4, 2]);
    checksumsOk(out.packet);

    const bare = receive(clamping("--set-mss 500"), syn([]), "eth1", 4);
    expect(bare.packet.length).toBe(44);
    expect(mssOf(bare.packet)).toBe(500);
    checksumsOk(bare.packet);
  });

  it("adds nothing to a SYN that carries data, or whose header is full", () => {
    const withData = receive(clamping("--set-mss 1000"), syn([], { payload: "abc" }), "eth1", 64);
    expect(withData.packet.length).toBe(43);
    expect(mssOf(withData.packet)).toBe(null);
    checksumsOk(withData.packet);
    const full = syn(new Array(40).fill(1));
    const fullOut = receive(clamping("--set-mss 1000"), full, "eth1", 64);
    expect(fullOut.packet.length).toBe(80);
    expect(mssOf(fullOut.packet)).toBe(null);
  });

  it("leaves the packet as it is when its buffer has no room to grow", () => {
    const out = receive(clamping("--set-mss 1000"), syn([]), "eth1", 0);
    expect(out.accepted).toBe(true);
    expect(out.packet.length).toBe(40);
    expect(mssOf(out.packet)).toBe(null);
    checksumsOk(out.packet);
  });

  it("applies to every segment the rule reaches: the rule's --tcp-flags limits it to SYNs", () => {
    const ackSegment = syn([], { flags: ACK, ack: 1 });
    // With the usual match, a bare ACK is untouched...
    expect(receive(clamping("--set-mss 1000"), ackSegment, "eth1", 64).packet.length).toBe(40);
    // ...without it, the kernel (as iptables-nft lets the rule in) gives it an MSS option.
    const out = receive(clamping("--set-mss 1000", ""), ackSegment, "eth1", 64);
    expect(out.packet.length).toBe(44);
    expect(mssOf(out.packet)).toBe(536);
    checksumsOk(out.packet);
  });
});

describe("TCPMSS --clamp-mss-to-pmtu", () => {
  it("clamps to 1460 (an MTU of 1500 less 40)", () => {
    const out = receive(clamping("--clamp-mss-to-pmtu"), syn([2, 4, 0x23, 0x00]), "eth1");
    expect(mssOf(out.packet)).toBe(1460);
    checksumsOk(out.packet);
    const small = receive(clamping("--clamp-mss-to-pmtu"), syn([2, 4, 0x05, 0x00]), "eth1");
    expect(mssOf(small.packet)).toBe(1280);
  });

  it("works in POSTROUTING for packets the host forwards, and the rest of the walk sees the new packet", () => {
    const engine = engineFor(
      rulesFromCommands([
        "iptables -t mangle -A POSTROUTING -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu",
        "iptables -t mangle -A POSTROUTING -j LOG --log-tcp-options",
      ]),
      ROUTER,
    );
    const out = receive(engine, syn([]), "eth1", 16);
    expect(out.logs[0]).toContain(" LEN=44 ");
    expect(out.logs[0]).toContain(" OPT (02040218) ");
    checksumsOk(out.packet);
  });
});
