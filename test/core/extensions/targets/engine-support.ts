// Shared by the *.compile.test.ts files: a small router host, and a way to put one packet through a
// real Netfilter and keep what came out (the engine reuses its result object).
import type { HostDescription } from "../../../../src/core/host/host-view.ts";
import type { Netfilter, PacketPath } from "../../../../src/core/engine/netfilter.ts";
import type { DropReason } from "../../../../src/core/engine/packet-context.ts";
import { Ipv4View } from "../../../../src/core/packet/ipv4.ts";
import { TcpView } from "../../../../src/core/packet/tcp.ts";
import { UdpView } from "../../../../src/core/packet/udp.ts";
import { IcmpView } from "../../../../src/core/packet/icmp.ts";
import { formatAddress } from "../../../../src/core/net/ipv4-address.ts";

/**
 * A router: eth0 to the Internet (203.0.113.1/24, default via .254), eth1 to a LAN (10.0.0.1/24),
 * eth2 to a second site (10.9.0.1/24) that also reaches 10.99.0.0/16 through 10.9.0.2.
 */
export const ROUTER: HostDescription = {
  interfaces: [
    { name: "eth0", addresses: ["203.0.113.1/24"] },
    { name: "eth1", addresses: ["10.0.0.1/24"] },
    { name: "eth2", addresses: ["10.9.0.1/24"] },
  ],
  routes: [
    { destination: "default", gateway: "203.0.113.254", dev: "eth0" },
    { destination: "10.99.0.0/16", gateway: "10.9.0.2", dev: "eth2" },
  ],
};

export interface Outcome {
  accepted: boolean;
  path: PacketPath;
  dropReason: DropReason | null;
  replies: Uint8Array[];
  logs: string[];
  /** The packet's bytes after the walk (it is rewritten in place). */
  packet: Uint8Array;
}

/** A packet arriving on `inInterface`. `spare` bytes of room are left after it in the buffer. */
export function receive(engine: Netfilter, packet: Uint8Array, inInterface: string, spare = 0): Outcome {
  const buf = new Uint8Array(packet.length + spare);
  buf.set(packet);
  const r = engine.receive(buf, packet.length, inInterface, 0);
  return { accepted: r.accepted, path: r.path, dropReason: r.dropReason, replies: [...r.replies], logs: [...r.logs], packet: buf.slice(0, r.length || packet.length) };
}

/** A packet the host sends. */
export function send(engine: Netfilter, packet: Uint8Array): Outcome {
  const buf = packet.slice();
  const r = engine.send(buf, packet.length, 0);
  return { accepted: r.accepted, path: r.path, dropReason: r.dropReason, replies: [...r.replies], logs: [...r.logs], packet: buf.slice(0, r.length || packet.length) };
}

/** The views of a whole IPv4 packet, with its checksums checked. */
export function decodePacket(bytes: Uint8Array) {
  const ip = new Ipv4View(bytes);
  const offset = ip.payloadOffset;
  const length = ip.payloadLength;
  const tcp = new TcpView(bytes, offset, length);
  const udp = new UdpView(bytes, offset, length);
  const icmp = new IcmpView(bytes, offset, length);
  return {
    ip,
    tcp,
    udp,
    icmp,
    src: formatAddress(ip.source),
    dst: formatAddress(ip.destination),
    ipChecksumOk: ip.verifyHeaderChecksum(),
    tcpChecksumOk: tcp.verifyChecksum(ip.source, ip.destination),
    udpChecksumOk: udp.verifyChecksum(ip.source, ip.destination),
    icmpChecksumOk: icmp.verifyChecksum(),
    payload: bytes.subarray(offset, offset + length),
  };
}
