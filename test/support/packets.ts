// Reading packets back in tests: their addresses, ports and flags, and whether every checksum holds.
import { Ipv4View } from "../../src/core/packet/ipv4.ts";
import { TcpView } from "../../src/core/packet/tcp.ts";
import { UdpView } from "../../src/core/packet/udp.ts";
import { IcmpView } from "../../src/core/packet/icmp.ts";
import { formatAddress } from "../../src/core/net/ipv4-address.ts";

export interface Decoded {
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
  flags?: number;
  ttl: number;
  protocol: number;
  checksumsValid: boolean;
  icmpType?: number;
}

/** Decodes the first `length` bytes of a packet and verifies every checksum in it. */
export function decode(buf: Uint8Array, length = buf.length): Decoded {
  const ip = new Ipv4View(buf, 0, length);
  const out: Decoded = { src: formatAddress(ip.source), dst: formatAddress(ip.destination), ttl: ip.ttl, protocol: ip.protocol, checksumsValid: ip.verifyHeaderChecksum() };
  const l4 = ip.payloadOffset;
  const l4len = ip.totalLength - ip.headerLength;
  if (ip.protocol === 6) {
    const tcp = new TcpView(buf, l4, l4len);
    Object.assign(out, { sport: tcp.sourcePort, dport: tcp.destinationPort, flags: tcp.flags });
    out.checksumsValid &&= tcp.verifyChecksum(ip.source, ip.destination);
  } else if (ip.protocol === 17) {
    const udp = new UdpView(buf, l4, l4len);
    Object.assign(out, { sport: udp.sourcePort, dport: udp.destinationPort });
    out.checksumsValid &&= udp.checksum === 0 || udp.verifyChecksum(ip.source, ip.destination);
  } else if (ip.protocol === 1) {
    const icmp = new IcmpView(buf, l4, l4len);
    out.icmpType = icmp.type;
    out.checksumsValid &&= icmp.verifyChecksum();
  }
  return out;
}
