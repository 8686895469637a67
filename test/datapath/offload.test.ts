// Partial checksums of NEEDS_CSUM packets (offload.ts): after NAT the pseudo-header sum is
// recomputed; finishing it as the kernel does (sum the transport bytes with the partial sum in
// the checksum field, store the complement) must give the packet's true checksum.
import { describe, expect, it } from "vitest";
import { checksumVouchedFor, needsChecksum, refreshPartialChecksum, withEmptyVnetHeader } from "../../src/datapath/offload.ts";
import { buildTcp, buildUdp } from "../../src/core/packet/builder.ts";
import { foldSum, sumBytes } from "../../src/core/packet/checksum.ts";
import { Ipv4View } from "../../src/core/packet/ipv4.ts";
import { TcpView } from "../../src/core/packet/tcp.ts";
import { UdpView } from "../../src/core/packet/udp.ts";
import { VNET_HDR_F_DATA_VALID, VNET_HDR_F_NEEDS_CSUM, VNET_HDR_LEN } from "../../src/io/tun.ts";

/** What the kernel does with a CHECKSUM_PARTIAL packet: sum from the transport header on, store ~sum. */
function finishAsTheKernel(pkt: Uint8Array, field: number): void {
  const ihl = (pkt[0]! & 0x0f) * 4;
  const check = ~foldSum(sumBytes(pkt, ihl, pkt.length - ihl)) & 0xffff;
  pkt[field] = check >>> 8;
  pkt[field + 1] = check & 0xff;
}

function setAddresses(pkt: Uint8Array, src: number[], dst: number[]): void {
  pkt.set(src, 12);
  pkt.set(dst, 16);
  new Ipv4View(pkt).fillHeaderChecksum();
}

describe("offload partial checksums", () => {
  it("a TCP segment DNATed (address and port) ends up with a correct checksum once the kernel finishes it", () => {
    const pkt = buildTcp({ src: "192.168.0.50", dst: "192.168.0.100", sport: 40000, dport: 8080, flags: 0x18, seq: 7, ack: 9, payload: "x".repeat(1001) });
    // DNAT to 172.17.0.2:80, as the engine rewrites it; the partial sum is then stale.
    setAddresses(pkt, [192, 168, 0, 50], [172, 17, 0, 2]);
    pkt[22] = 0;
    pkt[23] = 80;
    pkt[36] = 0x12;
    pkt[37] = 0x34;
    refreshPartialChecksum(pkt);
    finishAsTheKernel(pkt, 36);
    const ip = new Ipv4View(pkt);
    expect(new TcpView(pkt, ip.payloadOffset, ip.payloadLength).verifyChecksum(ip.source, ip.destination)).toBe(true);
  });

  it("works for UDP, and leaves other protocols alone", () => {
    const pkt = buildUdp({ src: "10.0.0.1", dst: "10.0.0.2", sport: 5000, dport: 53, payload: "hello world" });
    setAddresses(pkt, [10, 0, 0, 9], [10, 0, 0, 2]);
    refreshPartialChecksum(pkt);
    finishAsTheKernel(pkt, 26);
    const ip = new Ipv4View(pkt);
    expect(new UdpView(pkt, ip.payloadOffset, ip.payloadLength).verifyChecksum(ip.source, ip.destination)).toBe(true);

    const icmp = Uint8Array.from([0x45, 0, 0, 28, 0, 0, 0, 0, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 8, 0, 0xab, 0xcd, 0, 1, 0, 1]);
    const copy = Uint8Array.from(icmp);
    refreshPartialChecksum(copy);
    expect(copy).toEqual(icmp);
  });

  it("reads the virtio_net_hdr flags and prepends an empty header", () => {
    expect(checksumVouchedFor(VNET_HDR_F_NEEDS_CSUM)).toBe(true);
    expect(checksumVouchedFor(VNET_HDR_F_DATA_VALID)).toBe(true);
    expect(checksumVouchedFor(0)).toBe(false);
    expect(needsChecksum(VNET_HDR_F_DATA_VALID)).toBe(false);
    const out = withEmptyVnetHeader(Uint8Array.from([1, 2, 3]));
    expect(out.length).toBe(VNET_HDR_LEN + 3);
    expect([...out.subarray(0, VNET_HDR_LEN)].every((b) => b === 0)).toBe(true);
    expect([...out.subarray(VNET_HDR_LEN)]).toEqual([1, 2, 3]);
  });
});
