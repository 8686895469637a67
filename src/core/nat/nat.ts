// Network address translation as the kernel's nf_nat_core does it. NAT is decided once per
// connection and per direction of rewriting ("manip": source or destination), on the connection's
// first packet: the chosen tuple becomes the connection's reply tuple, and every later packet is
// rewritten to match it. No per-connection NAT record is needed beyond the two tuples and the
// SRC_NAT / DST_NAT status bits.
import type { Conntrack } from "../conntrack/conntrack.ts";
import { CtStatus, Direction } from "../conntrack/states.ts";
import { hasPorts, invertPorts } from "../conntrack/tuple.ts";
import type { PacketContext } from "../engine/packet-context.ts";
import {
  NF_NAT_RANGE_MAP_IPS,
  NF_NAT_RANGE_PERSISTENT,
  NF_NAT_RANGE_PROTO_OFFSET,
  NF_NAT_RANGE_PROTO_RANDOM,
  NF_NAT_RANGE_PROTO_RANDOM_FULLY,
  NF_NAT_RANGE_PROTO_SPECIFIED,
  type NatRange,
} from "../extensions/targets/nat-range.ts";
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from "../net/protocols.ts";

export const enum Manip {
  Source = 0,
  Destination = 1,
}

const PROTO_RANDOM_ALL = NF_NAT_RANGE_PROTO_RANDOM | NF_NAT_RANGE_PROTO_RANDOM_FULLY;
/** nf_nat_l4proto_unique_tuple tries at most this many ports before halving. */
const MAX_ATTEMPTS = 128;

/** A tuple being chosen; one scratch object per NAT instance, never per packet. */
interface Tuple {
  protocol: number;
  src: number;
  dst: number;
  /** Source port (or ICMP id) in the high 16 bits, destination port (or type/code) in the low. */
  ports: number;
}

export type NatOutcome = "ok" | "nat-no-free-tuple";

export function manipOfHook(hook: string): Manip {
  return hook === "PREROUTING" || hook === "OUTPUT" ? Manip.Destination : Manip.Source;
}

function statusBit(manip: Manip): number {
  return manip === Manip.Source ? CtStatus.SRC_NAT : CtStatus.DST_NAT;
}

function doneBit(manip: Manip): number {
  return manip === Manip.Source ? CtStatus.SRC_NAT_DONE : CtStatus.DST_NAT_DONE;
}

/** A seeded 32-bit mix (for picking addresses in a range, as the kernel's jhash does). */
function mix(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ b;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class Nat {
  private readonly current: Tuple = { protocol: 0, src: 0, dst: 0, ports: 0 };
  private readonly candidate: Tuple = { protocol: 0, src: 0, dst: 0, ports: 0 };
  /** Connections whose NAT could not find a free tuple (port exhaustion). */
  exhausted = 0;

  constructor(
    private readonly conntrack: Conntrack,
    /** A random 16-bit number (injectable so tests are repeatable). */
    private readonly random16: () => number,
  ) {}

  isInitialized(ctId: number, manip: Manip): boolean {
    return (this.conntrack.table.status(ctId) & doneBit(manip)) !== 0;
  }

  /**
   * Binds the connection's `manip` to a tuple inside `range` (nf_nat_setup_info). The connection's
   * reply tuple changes so that replies are recognised and rewritten back.
   */
  setup(ctId: number, range: NatRange, manip: Manip, now: number): NatOutcome {
    const table = this.conntrack.table;
    const reply = ctId * 2 + 1;
    const current = this.current;
    // The original tuple as earlier manips left it: the inverse of the current reply tuple.
    current.protocol = table.protocol(ctId);
    current.src = table.tupleDst(reply);
    current.dst = table.tupleSrc(reply);
    current.ports = invertPorts(current.protocol, table.tuplePorts(reply));
    const chosen = this.candidate;
    const found = this.uniqueTuple(chosen, current, range, manip, ctId, now);
    if (!found) {
      this.exhausted++;
      return "nat-no-free-tuple";
    }
    const changed = chosen.src !== current.src || chosen.dst !== current.dst || chosen.ports !== current.ports;
    if (changed) {
      table.setReplyTuple(ctId, chosen.dst, chosen.src, invertPorts(chosen.protocol, chosen.ports));
      table.addStatus(ctId, statusBit(manip));
    }
    table.addStatus(ctId, doneBit(manip));
    return "ok";
  }

  /** No rule asked for NAT: keep the tuple, but still make it unique (nf_nat_alloc_null_binding). */
  nullBinding(ctId: number, manip: Manip, now: number): NatOutcome {
    const table = this.conntrack.table;
    const reply = ctId * 2 + 1;
    // The address the manip would touch, as the connection currently has it.
    const address = manip === Manip.Source ? table.tupleDst(reply) : table.tupleSrc(reply);
    const range: NatRange = { flags: NF_NAT_RANGE_MAP_IPS, minAddr: address, maxAddr: address, minPort: 0, maxPort: 0, basePort: 0 };
    return this.setup(ctId, range, manip, now);
  }

  /** Whether another connection already answers to the inverse of `tuple` (nf_nat_used_tuple). */
  private used(tuple: Tuple, ctId: number, now: number): boolean {
    const replyPorts = invertPorts(tuple.protocol, tuple.ports);
    return this.conntrack.table.tupleTaken(tuple.protocol, tuple.dst, tuple.src, replyPorts, now, ctId);
  }

  private inRange(tuple: Tuple, range: NatRange, manip: Manip): boolean {
    if (range.flags & NF_NAT_RANGE_MAP_IPS) {
      const address = manip === Manip.Source ? tuple.src : tuple.dst;
      if (address < range.minAddr || address > range.maxAddr) return false;
    }
    if (!(range.flags & NF_NAT_RANGE_PROTO_SPECIFIED)) return true;
    return this.portInRange(tuple, range, manip);
  }

  private portInRange(tuple: Tuple, range: NatRange, manip: Manip): boolean {
    if (!hasPorts(tuple.protocol) && tuple.protocol !== IPPROTO_ICMP) return true;
    const port = tuple.protocol === IPPROTO_ICMP || manip === Manip.Source ? tuple.ports >>> 16 : tuple.ports & 0xffff;
    return port >= range.minPort && port <= range.maxPort;
  }

  /** get_unique_tuple: keep what is there if allowed and free, else pick an address, then a port. */
  private uniqueTuple(out: Tuple, current: Tuple, range: NatRange, manip: Manip, ctId: number, now: number): boolean {
    out.protocol = current.protocol;
    out.src = current.src;
    out.dst = current.dst;
    out.ports = current.ports;
    // Source NAT keeps the connection's own tuple when it is already acceptable (most flows).
    if (manip === Manip.Source && !(range.flags & PROTO_RANDOM_ALL)) {
      if (this.inRange(current, range, manip) && !this.used(current, ctId, now)) return true;
    }
    this.pickAddress(out, range, manip);
    if (!(range.flags & PROTO_RANDOM_ALL)) {
      if (!(range.flags & NF_NAT_RANGE_PROTO_SPECIFIED)) {
        if (!this.used(out, ctId, now)) return true;
      } else if (this.portInRange(out, range, manip) && !this.used(out, ctId, now)) {
        // Unlike the kernel (which lets confirm fail later), a taken single-port range goes on to
        // pickPort, which then reports exhaustion: never a duplicate tuple.
        return true;
      }
    }
    return this.pickPort(out, range, manip, ctId, now);
  }

  /** find_best_ips_proto: an address from the range, the same one for the same hosts. */
  private pickAddress(tuple: Tuple, range: NatRange, manip: Manip): void {
    if (!(range.flags & NF_NAT_RANGE_MAP_IPS)) return;
    let address: number;
    if (range.minAddr === range.maxAddr) {
      address = range.minAddr;
    } else {
      const spread = range.maxAddr - range.minAddr + 1;
      const hash = mix(tuple.src, range.flags & NF_NAT_RANGE_PERSISTENT ? 0 : tuple.dst);
      address = range.minAddr + Math.floor((hash * spread) / 0x100000000);
    }
    if (manip === Manip.Source) tuple.src = address >>> 0;
    else tuple.dst = address >>> 0;
  }

  /**
   * nf_nat_l4proto_unique_tuple: search the port range from a random offset (destination NAT without
   * randomisation starts at the range's beginning), 128 tries, then halving the tries.
   */
  private pickPort(tuple: Tuple, range: NatRange, manip: Manip, ctId: number, now: number): boolean {
    const protocol = tuple.protocol;
    const isIcmp = protocol === IPPROTO_ICMP;
    if (!hasPorts(protocol) && !isIcmp) return !this.used(tuple, ctId, now);
    const useHigh = isIcmp || manip === Manip.Source;
    const key = useHigh ? tuple.ports >>> 16 : tuple.ports & 0xffff;
    let min: number;
    let size: number;
    if (isIcmp) {
      if (range.flags & NF_NAT_RANGE_PROTO_SPECIFIED) {
        min = range.minPort;
        size = range.maxPort - range.minPort + 1;
      } else {
        min = 0;
        size = 65536;
      }
    } else if (!(range.flags & NF_NAT_RANGE_PROTO_SPECIFIED)) {
      // A destination port is never changed unless the rule gave ports.
      if (manip === Manip.Destination) return !this.used(tuple, ctId, now);
      if (key < 1024) {
        // Keep privileged source ports privileged (512-1023 carry credentials by convention).
        if (key < 512) {
          min = 1;
          size = 511;
        } else {
          min = 600;
          size = 1023 - 600 + 1;
        }
      } else {
        min = 1024;
        size = 65535 - 1024 + 1;
      }
    } else {
      min = Math.min(range.minPort, range.maxPort);
      size = Math.abs(range.maxPort - range.minPort) + 1;
    }
    let offset: number;
    if (range.flags & NF_NAT_RANGE_PROTO_OFFSET) offset = key - range.basePort;
    else if (range.flags & PROTO_RANDOM_ALL || manip !== Manip.Destination) offset = this.random16();
    else offset = 0;
    let attempts = Math.min(size, MAX_ATTEMPTS);
    for (;;) {
      for (let i = 0; i < attempts; i++, offset++) {
        const port = min + (((offset % size) + size) % size);
        tuple.ports = useHigh ? ((port << 16) | (tuple.ports & 0xffff)) >>> 0 : ((tuple.ports & 0xffff0000) | port) >>> 0;
        if (!this.used(tuple, ctId, now)) return true;
      }
      if (attempts >= size || attempts < 16) return false;
      attempts = attempts >> 1;
      offset = this.random16();
    }
  }

  /**
   * Rewrites the packet as its connection's NAT says (nf_nat_packet): a packet going the original
   * way gets the manip the connection was bound with; a reply gets the opposite one undone.
   */
  apply(ctx: PacketContext, manip: Manip): void {
    const table = this.conntrack.table;
    const id = ctx.ctId;
    let bit = statusBit(manip);
    if (ctx.ctDirection === Direction.Reply) bit ^= CtStatus.SRC_NAT | CtStatus.DST_NAT;
    if ((table.status(id) & bit) === 0) return;
    // The packet must look like the inverse of the other direction's tuple.
    const other = id * 2 + (ctx.ctDirection ^ 1);
    const protocol = table.protocol(id);
    const targetPorts = invertPorts(protocol, table.tuplePorts(other));
    if (manip === Manip.Source) {
      rewriteSource(ctx, table.tupleDst(other), targetPorts >>> 16);
    } else {
      rewriteDestination(ctx, table.tupleSrc(other), protocol === IPPROTO_ICMP ? targetPorts >>> 16 : targetPorts & 0xffff);
    }
  }

  /**
   * An ICMP error about a NATed connection (nf_nat_icmp_reply_translation): the quoted packet is
   * translated back as its connection saw it, and the outer header as a reply would be.
   * Returns false when the error must be dropped.
   */
  translateIcmpError(ctx: PacketContext, manip: Manip): boolean {
    const table = this.conntrack.table;
    const id = ctx.ctId;
    const icmp = ctx.icmp;
    if (icmp.type === 5 /* redirect */) {
      const status = table.status(id);
      const bothDone = CtStatus.SRC_NAT_DONE | CtStatus.DST_NAT_DONE;
      if ((status & bothDone) !== bothDone || (status & (CtStatus.SRC_NAT | CtStatus.DST_NAT)) !== 0) return false;
    }
    let bit = statusBit(manip);
    if (ctx.ctDirection === Direction.Reply) bit ^= CtStatus.SRC_NAT | CtStatus.DST_NAT;
    if ((table.status(id) & bit) === 0) return true;
    if (icmp.openInner() !== "ok") return false;
    const other = id * 2 + (ctx.ctDirection ^ 1);
    const protocol = table.protocol(id);
    const otherSrc = table.tupleSrc(other);
    const otherDst = table.tupleDst(other);
    const otherPorts = table.tuplePorts(other);
    // The quoted packet went the other way: give it the other direction's tuple, opposite manip.
    if (manip === Manip.Destination) {
      icmp.setInnerSource(otherSrc);
      if (protocol === IPPROTO_TCP || protocol === IPPROTO_UDP) icmp.setInnerSourcePort(otherPorts >>> 16);
      else if (protocol === IPPROTO_ICMP) icmp.setInnerIcmpIdentifier(otherPorts >>> 16);
    } else {
      icmp.setInnerDestination(otherDst);
      if (protocol === IPPROTO_TCP || protocol === IPPROTO_UDP) icmp.setInnerDestinationPort(otherPorts & 0xffff);
    }
    // The outer header: as the inverse of the other direction's tuple, addresses only.
    if (manip === Manip.Source) {
      if (ctx.source !== otherDst) {
        ctx.ip.setSource(otherDst);
        ctx.source = otherDst;
      }
    } else if (ctx.destination !== otherSrc) {
      ctx.ip.setDestination(otherSrc);
      ctx.destination = otherSrc;
    }
    return true;
  }
}

function rewriteSource(ctx: PacketContext, address: number, port: number): void {
  const old = ctx.source;
  if (old !== address) {
    ctx.ip.setSource(address);
    fixTransportForAddress(ctx, old, address);
    ctx.source = address;
  }
  rewritePort(ctx, port, true);
}

function rewriteDestination(ctx: PacketContext, address: number, port: number): void {
  const old = ctx.destination;
  if (old !== address) {
    ctx.ip.setDestination(address);
    fixTransportForAddress(ctx, old, address);
    ctx.destination = address;
  }
  rewritePort(ctx, port, false);
}

function fixTransportForAddress(ctx: PacketContext, oldAddress: number, newAddress: number): void {
  if (!ctx.hasTransport) return;
  if (ctx.protocol === IPPROTO_TCP) ctx.tcp.updateForAddressChange(oldAddress, newAddress);
  else if (ctx.protocol === IPPROTO_UDP) ctx.udp.updateForAddressChange(oldAddress, newAddress);
}

function rewritePort(ctx: PacketContext, port: number, source: boolean): void {
  if (!ctx.hasTransport) return;
  switch (ctx.protocol) {
    case IPPROTO_TCP:
      if (source && ctx.sourcePort !== port) {
        ctx.tcp.setSourcePort(port);
        ctx.sourcePort = port;
      } else if (!source && ctx.destinationPort !== port) {
        ctx.tcp.setDestinationPort(port);
        ctx.destinationPort = port;
      }
      return;
    case IPPROTO_UDP:
      if (source && ctx.sourcePort !== port) {
        ctx.udp.setSourcePort(port);
        ctx.sourcePort = port;
      } else if (!source && ctx.destinationPort !== port) {
        ctx.udp.setDestinationPort(port);
        ctx.destinationPort = port;
      }
      return;
    case IPPROTO_ICMP:
      // Queries carry the identifier both ways; the id lives in the tuple's high half.
      if (ctx.icmp.identifier !== port && (ctx.icmpType === 0 || ctx.icmpType === 8 || (ctx.icmpType >= 13 && ctx.icmpType <= 18))) {
        ctx.icmp.setIdentifier(port);
      }
      return;
  }
}
