// Packets described on the command line, as `uptables simulate` takes them:
//   tcp 192.168.0.50:40000 > 192.168.0.100:8080 syn
//   udp 172.17.0.2:33000 > 203.0.113.10:53 len=40
//   icmp 172.17.0.2 > 203.0.113.10 echo id=7 seq=1
// and the one-line summary printed for a packet ("tcp 1.2.3.4:5 > 6.7.8.9:80 [S] ttl 64").
import { buildIcmpEcho, buildTcp, buildUdp } from "../core/packet/builder.ts";
import { Ipv4View } from "../core/packet/ipv4.ts";
import { TcpView } from "../core/packet/tcp.ts";
import { UdpView } from "../core/packet/udp.ts";
import { IcmpView } from "../core/packet/icmp.ts";
import { formatAddress, parseDottedQuad } from "../core/net/ipv4-address.ts";

export class PacketSpecError extends Error {}

const FLAG_WORDS: Record<string, number> = { fin: 0x01, syn: 0x02, rst: 0x04, psh: 0x08, ack: 0x10, urg: 0x20, ece: 0x40, cwr: 0x80 };

function endpoint(text: string, what: string, withPort: boolean): { address: number; port: number } {
  const [host, portText] = text.split(":");
  const address = parseDottedQuad(host ?? "");
  if (address === null) throw new PacketSpecError(`bad ${what} address "${host}" (want a dotted quad)`);
  if (!withPort) {
    if (portText !== undefined) throw new PacketSpecError(`${what}: this protocol has no ports`);
    return { address, port: 0 };
  }
  if (portText === undefined || !/^[0-9]+$/.test(portText) || Number(portText) > 65535) {
    throw new PacketSpecError(`bad ${what} port in "${text}" (want ADDRESS:PORT, port 0-65535)`);
  }
  return { address, port: Number(portText) };
}

function numberOption(value: string, name: string, max: number): number {
  if (!/^[0-9]+$/.test(value) || Number(value) > max) throw new PacketSpecError(`bad ${name}=${value} (0-${max})`);
  return Number(value);
}

/** Builds the packet a spec describes; throws PacketSpecError naming what is wrong. */
export function buildFromSpec(spec: string): Uint8Array {
  const words = spec.trim().split(/\s+/);
  const [protocol, from, arrow, to, ...rest] = words;
  if (!protocol || !from || !to || (arrow !== ">" && arrow !== "->")) {
    throw new PacketSpecError(`cannot read packet "${spec}": want "PROTO SRC[:PORT] > DST[:PORT] [options]", e.g. "tcp 10.0.0.1:40000 > 10.0.0.2:80 syn"`);
  }
  const options = new Map<string, string>();
  const flags: string[] = [];
  for (const word of rest) {
    const eq = word.indexOf("=");
    if (eq > 0) options.set(word.slice(0, eq), word.slice(eq + 1));
    else flags.push(word.toLowerCase());
  }
  const ttl = options.has("ttl") ? numberOption(options.get("ttl")!, "ttl", 255) : 64;
  const payloadLength = options.has("len") ? numberOption(options.get("len")!, "len", 1400) : 0;
  const payload = new Uint8Array(payloadLength);
  switch (protocol) {
    case "tcp": {
      const src = endpoint(from, "source", true);
      const dst = endpoint(to, "destination", true);
      let bits = 0;
      for (const f of [...flags, ...(options.get("flags")?.toLowerCase().split(",") ?? [])]) {
        if (!(f in FLAG_WORDS)) throw new PacketSpecError(`unknown TCP flag "${f}" (syn ack fin rst psh urg ece cwr)`);
        bits |= FLAG_WORDS[f]!;
      }
      if (bits === 0) bits = FLAG_WORDS.ack!;
      const seq = options.has("seq") ? numberOption(options.get("seq")!, "seq", 0xffffffff) : 1000;
      const ack = options.has("ack") ? numberOption(options.get("ack")!, "ack", 0xffffffff) : bits & 0x10 ? 1 : 0;
      return buildTcp({ src: src.address, dst: dst.address, sport: src.port, dport: dst.port, flags: bits, seq, ack, ttl, payload });
    }
    case "udp": {
      const src = endpoint(from, "source", true);
      const dst = endpoint(to, "destination", true);
      return buildUdp({ src: src.address, dst: dst.address, sport: src.port, dport: dst.port, ttl, payload });
    }
    case "icmp": {
      const src = endpoint(from, "source", false);
      const dst = endpoint(to, "destination", false);
      const request = !flags.includes("reply") && !flags.includes("echo-reply");
      const identifier = options.has("id") ? numberOption(options.get("id")!, "id", 65535) : 1;
      const sequence = options.has("seq") ? numberOption(options.get("seq")!, "seq", 65535) : 1;
      return buildIcmpEcho({ src: src.address, dst: dst.address, request, identifier, sequence, ttl, payload });
    }
    default:
      throw new PacketSpecError(`unknown protocol "${protocol}" (tcp, udp or icmp)`);
  }
}

/** The answer to a packet as it left: addresses and ports swapped, the flags a peer would send. */
export function buildReply(packet: Uint8Array, length: number): Uint8Array {
  const ip = new Ipv4View(packet, 0, length);
  const l4 = ip.payloadOffset;
  const l4Length = ip.totalLength - ip.headerLength;
  switch (ip.protocol) {
    case 6: {
      const tcp = new TcpView(packet, l4, l4Length);
      const flags = tcp.syn && !tcp.ackFlag ? 0x12 : tcp.fin ? 0x11 : 0x10;
      return buildTcp({ src: ip.destination, dst: ip.source, sport: tcp.destinationPort, dport: tcp.sourcePort, flags, seq: 5000, ack: (tcp.seq + 1) >>> 0 });
    }
    case 17: {
      const udp = new UdpView(packet, l4, l4Length);
      return buildUdp({ src: ip.destination, dst: ip.source, sport: udp.destinationPort, dport: udp.sourcePort });
    }
    case 1: {
      const icmp = new IcmpView(packet, l4, l4Length);
      return buildIcmpEcho({ src: ip.destination, dst: ip.source, request: false, identifier: icmp.identifier, sequence: icmp.sequence });
    }
    default:
      throw new PacketSpecError(`cannot build a reply for protocol ${ip.protocol}`);
  }
}

function tcpFlagLetters(flags: number): string {
  const letters = [
    [0x02, "S"],
    [0x01, "F"],
    [0x04, "R"],
    [0x08, "P"],
    [0x20, "U"],
    [0x10, "."],
  ] as const;
  return letters.filter(([bit]) => flags & bit).map(([, l]) => l).join("") || "none";
}

/** "tcp 1.2.3.4:5 > 6.7.8.9:80 [S] ttl 64 len 40", in tcpdump's spirit. */
export function describePacket(packet: Uint8Array, length: number): string {
  const ip = new Ipv4View(packet, 0, length);
  if (ip.validate() !== "ok") return `malformed IPv4 packet (${ip.validate()}), ${length} bytes`;
  const src = formatAddress(ip.source);
  const dst = formatAddress(ip.destination);
  const l4 = ip.payloadOffset;
  const l4Length = ip.totalLength - ip.headerLength;
  const tail = `ttl ${ip.ttl} len ${ip.totalLength}`;
  switch (ip.protocol) {
    case 6: {
      const tcp = new TcpView(packet, l4, l4Length);
      return `tcp ${src}:${tcp.sourcePort} > ${dst}:${tcp.destinationPort} [${tcpFlagLetters(tcp.flags)}] ${tail}`;
    }
    case 17: {
      const udp = new UdpView(packet, l4, l4Length);
      return `udp ${src}:${udp.sourcePort} > ${dst}:${udp.destinationPort} ${tail}`;
    }
    case 1: {
      const icmp = new IcmpView(packet, l4, l4Length);
      const what = icmp.type === 8 ? "echo request" : icmp.type === 0 ? "echo reply" : `type ${icmp.type} code ${icmp.code}`;
      const id = icmp.type === 8 || icmp.type === 0 ? ` id ${icmp.identifier} seq ${icmp.sequence}` : "";
      return `icmp ${src} > ${dst} ${what}${id} ${tail}`;
    }
    default:
      return `proto ${ip.protocol} ${src} > ${dst} ${tail}`;
  }
}
