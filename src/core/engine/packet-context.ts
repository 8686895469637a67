// Everything netfilter knows about the packet it is walking: the bytes, the fields parsed from them
// (kept current as NAT rewrites them), where it came from and goes to, and its connection. One
// context is reused for every packet, so the per-packet path allocates nothing.
import type { HostView } from "../host/host-view.ts";
import type { Hook } from "../rules/hooks.ts";
import { Ipv4View } from "../packet/ipv4.ts";
import { TcpView } from "../packet/tcp.ts";
import { UdpView } from "../packet/udp.ts";
import { IcmpView } from "../packet/icmp.ts";
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from "../net/protocols.ts";
import type { NatRequest } from "./nat-request.ts";
import type { ConntrackTable } from "../conntrack/table.ts";

/** Why a packet was dropped before any rule saw it, as the kernel's counters would name it. */
export type DropReason =
  | "ip-header"
  | "transport-header"
  | "martian-source"
  | "martian-destination"
  | "no-route"
  | "forwarding-disabled"
  | "ttl-exceeded"
  | "conntrack-table-full"
  | "nat-no-free-tuple"
  | "conntrack-insert-failed"
  | "rule"
  | "policy";

export class PacketContext {
  buf: Uint8Array = new Uint8Array(0);
  length = 0;
  readonly ip = new Ipv4View();
  readonly tcp = new TcpView();
  readonly udp = new UdpView();
  readonly icmp = new IcmpView();

  // Parsed fields.
  protocol = 0;
  source = 0;
  destination = 0;
  /** Offset of the transport header; meaningful only when `hasTransport`. */
  transportOffset = 0;
  /** A non-first fragment: no transport header to look at (-f matches these). */
  isLaterFragment = false;
  /** TCP/UDP/ICMP header present and long enough to read ports/types. */
  hasTransport = false;
  /**
   * The fixed part of a TCP (20 bytes) or UDP (8 bytes) header is there, so ports and flags are
   * read, even when the header is otherwise malformed (TCP data offset, UDP length): the kernel's
   * tcp/udp matches need only that much, while conntrack finds such packets INVALID.
   */
  hasPortHeader = false;
  sourcePort = 0;
  destinationPort = 0;
  tcpFlags = 0;
  icmpType = 0;
  icmpCode = 0;

  // Where it is.
  hook: Hook = "PREROUTING";
  /** HOOK_INDEX[hook], kept in step with `hook` by the engine. */
  hookIndex = 0;
  inInterface: string | null = null;
  outInterface: string | null = null;
  host!: HostView;
  /** Milliseconds on the engine's clock. */
  now = 0;
  /**
   * The device already verified the transport checksum (the kernel's CHECKSUM_UNNECESSARY, a TUN's
   * virtio_net_hdr DATA_VALID): conntrack need not sum the packet again.
   */
  checksumVerified = false;

  // Marks and conntrack.
  mark = 0;
  /** The connection table, for matches that read the packet's connection (ctstatus, ctorigdst...). */
  conntrack!: ConntrackTable;
  /** Connection id in the conntrack table, or -1. */
  ctId = -1;
  /** 0 original, 1 reply. */
  ctDirection = 0;
  /** The CtState bit of this packet (NEW, ESTABLISHED, RELATED, INVALID, UNTRACKED). */
  ctState = 0;
  /** raw-table CT --notrack / NOTRACK asked not to track this packet. */
  notrack = false;
  /** TRACE target: report this packet's walk. */
  traced = false;
  /**
   * A match had to read a transport header that is not there (xt_tcpudp's hotdrop): the walk
   * drops the packet at once.
   */
  hotdrop = false;

  /** Set by a NAT target during the nat table's walk; the engine binds the connection with it. */
  natRequest: NatRequest | null = null;

  /** Packets a target wants sent in answer (REJECT's ICMP error or TCP RST). */
  readonly replies: Uint8Array[] = [];

  /** Lines LOG and NFLOG write (the kernel's log), collected for the caller. */
  readonly logs: string[] = [];

  /**
   * Points the context at a new packet; returns null when its IP header is sound (ip_rcv_core),
   * else why not. A malformed transport header is not a drop here, as in the kernel: conntrack marks
   * the packet INVALID and a port match that needs the header drops it (`hotdrop`).
   */
  load(buf: Uint8Array, length: number): DropReason | null {
    this.buf = buf;
    this.length = length;
    this.mark = 0;
    this.ctId = -1;
    this.ctDirection = 0;
    this.ctState = 0;
    this.notrack = false;
    this.traced = false;
    this.hotdrop = false;
    this.natRequest = null;
    this.checksumVerified = false;
    this.inInterface = null;
    this.outInterface = null;
    if (this.replies.length !== 0) this.replies.length = 0;
    if (this.logs.length !== 0) this.logs.length = 0;
    this.ip.reset(buf, 0, length);
    if (this.ip.validate() !== "ok") return "ip-header";
    this.parseTransport();
    return null;
  }

  /**
   * Reads addresses, ports and flags from the bytes. Called on load and after the packet was
   * rewritten. False when the transport header is truncated or malformed.
   */
  parseTransport(): boolean {
    const ip = this.ip;
    this.protocol = ip.protocol;
    this.source = ip.source;
    this.destination = ip.destination;
    this.transportOffset = ip.payloadOffset;
    this.isLaterFragment = ip.fragmentOffset !== 0;
    this.hasTransport = false;
    this.hasPortHeader = false;
    this.sourcePort = 0;
    this.destinationPort = 0;
    this.tcpFlags = 0;
    this.icmpType = 0;
    this.icmpCode = 0;
    if (this.isLaterFragment) return true;
    const end = ip.offset + ip.totalLength;
    const length = end - this.transportOffset;
    switch (this.protocol) {
      case IPPROTO_TCP: {
        const tcp = this.tcp.reset(this.buf, this.transportOffset, length);
        const check = tcp.validate();
        if (check === "truncated") return false;
        this.sourcePort = tcp.sourcePort;
        this.destinationPort = tcp.destinationPort;
        this.tcpFlags = tcp.flags;
        this.hasPortHeader = true;
        this.hasTransport = check === "ok";
        return this.hasTransport;
      }
      case IPPROTO_UDP: {
        const udp = this.udp.reset(this.buf, this.transportOffset, length);
        const check = udp.validate();
        if (check === "truncated") return false;
        this.sourcePort = udp.sourcePort;
        this.destinationPort = udp.destinationPort;
        this.hasPortHeader = true;
        this.hasTransport = check === "ok";
        return this.hasTransport;
      }
      case IPPROTO_ICMP: {
        const icmp = this.icmp.reset(this.buf, this.transportOffset, length);
        if (icmp.validate() !== "ok") return false;
        this.icmpType = icmp.type;
        this.icmpCode = icmp.code;
        this.hasTransport = true;
        return true;
      }
      default:
        return true;
    }
  }

  /** The packet's bytes as they are now (allocates a view: for results, not the fast path). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}
