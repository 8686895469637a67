// Offloads through the TUN (IFF_VNET_HDR with TUN_F_CSUM | TUN_F_TSO4): every packet comes with a
// 10-byte virtio_net_hdr, and TCP may arrive as a super-packet of up to 64 KB that the kernel cuts
// into segments after we write it back (as wireguard-go's tun/offload_linux.go uses it).
//
// Checksums: a packet flagged NEEDS_CSUM (the kernel's CHECKSUM_PARTIAL) carries in its TCP/UDP
// checksum field only the folded pseudo-header sum (addresses, protocol, transport length, not
// complemented); the kernel sums the rest when it segments or sends the packet. Such a packet and
// one flagged DATA_VALID (CHECKSUM_UNNECESSARY) need no checksum check by conntrack. After NAT the
// partial sum must cover the new addresses, and only them (a changed port is summed by the kernel
// with the rest of the header), so it is computed afresh rather than updated as a full checksum.
import { foldSum, pseudoHeaderSum } from "../core/packet/checksum.ts";
import { IPPROTO_TCP, IPPROTO_UDP } from "../core/net/protocols.ts";
import { VNET_HDR_F_DATA_VALID, VNET_HDR_F_NEEDS_CSUM, VNET_HDR_LEN } from "../io/tun.ts";

/** The virtio_net_hdr's flags byte for the packet whose header starts at buf[at]. */
export function vnetFlags(buf: Uint8Array, at: number): number {
  return buf[at]!;
}

/** Whether the device (the kernel) vouches for the transport checksum: conntrack need not sum it. */
export function checksumVouchedFor(flags: number): boolean {
  return (flags & (VNET_HDR_F_NEEDS_CSUM | VNET_HDR_F_DATA_VALID)) !== 0;
}

export function needsChecksum(flags: number): boolean {
  return (flags & VNET_HDR_F_NEEDS_CSUM) !== 0;
}

/** Rewrites a NEEDS_CSUM packet's partial TCP/UDP checksum for its current addresses and length. */
export function refreshPartialChecksum(pkt: Uint8Array): void {
  const ihl = (pkt[0]! & 0x0f) * 4;
  const protocol = pkt[9]!;
  let field: number;
  if (protocol === IPPROTO_TCP) field = ihl + 16;
  else if (protocol === IPPROTO_UDP) field = ihl + 6;
  else return;
  const totalLength = (pkt[2]! << 8) | pkt[3]!;
  const src = ((pkt[12]! << 24) | (pkt[13]! << 16) | (pkt[14]! << 8) | pkt[15]!) >>> 0;
  const dst = ((pkt[16]! << 24) | (pkt[17]! << 16) | (pkt[18]! << 8) | pkt[19]!) >>> 0;
  const partial = foldSum(pseudoHeaderSum(src, dst, protocol, totalLength - ihl));
  pkt[field] = partial >>> 8;
  pkt[field + 1] = partial & 0xff;
}

/** A packet the engine made (a REJECT reply, complete checksums) with an empty virtio_net_hdr before it. */
export function withEmptyVnetHeader(packet: Uint8Array): Uint8Array {
  const out = new Uint8Array(VNET_HDR_LEN + packet.length);
  out.set(packet, VNET_HDR_LEN);
  return out;
}
