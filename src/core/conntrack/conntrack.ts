// The connection tracker's per-packet work (the kernel's nf_conntrack_in and nf_conntrack_confirm):
// find the packet's connection by its tuple or start a new one, run the protocol's tracker, and tell
// the rules what the packet is (NEW, ESTABLISHED, RELATED, INVALID, UNTRACKED).
import type { PacketContext } from "../engine/packet-context.ts";
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from "../net/protocols.ts";
import { isIcmpError } from "../packet/icmp.ts";
import { ConntrackTable } from "./table.ts";
import { CtState, CtStatus, Direction, TcpState } from "./states.ts";
import { DEFAULT_TIMEOUTS, tcpTimeout, type Timeouts } from "./timeouts.ts";
import { tcpFlagClass, tcpFlagsValid, tcpNewState, tcpTransition, TcpFlagClass } from "./tcp-tracker.ts";
import { icmpStartsConnection, invertPorts, packIcmp, packPorts } from "./tuple.ts";

export interface ConntrackOptions {
  readonly maxEntries?: number;
  readonly timeouts?: Timeouts;
  /** nf_conntrack_tcp_loose: pick up TCP connections mid-stream (default on, as the kernel). */
  readonly tcpLoose?: boolean;
  /** nf_conntrack_checksum: packets with bad transport checksums are INVALID at PREROUTING. */
  readonly verifyChecksums?: boolean;
  readonly seed?: number;
}

/** UDP becomes a "stream" (longer timeout, ASSURED) when traffic continues past this. */
const UDP_STREAM_AFTER_MS = 2000;

/** What a protocol tracker says of a packet of a known connection. */
const enum TcpVerdict {
  Ok = 0,
  Invalid = 1,
  /** The old connection was removed; track the packet as a new one. */
  Reopen = 2,
}

export type ConntrackDrop = "conntrack-table-full" | "conntrack-insert-failed";

export class Conntrack {
  readonly table: ConntrackTable;
  readonly timeouts: Timeouts;
  readonly tcpLoose: boolean;
  readonly verifyChecksums: boolean;
  // The packet's known connection as it was before the packet, kept only while someone listens to
  // events: compared when the packet is done, a change is an UPDATE event.
  private watchedId = -1;
  private watchedTcpState = 0;
  private watchedStatus = 0;
  private watchedMark = 0;

  constructor(opts: ConntrackOptions = {}) {
    this.table = new ConntrackTable({ maxEntries: opts.maxEntries ?? 65536, seed: opts.seed });
    this.timeouts = opts.timeouts ?? DEFAULT_TIMEOUTS;
    this.tcpLoose = opts.tcpLoose ?? true;
    this.verifyChecksums = opts.verifyChecksums ?? true;
  }

  /**
   * Sets ctx.ctId / ctDirection / ctState for the packet. Returns a drop reason only when the
   * packet must be dropped (table full); an invalid packet is marked INVALID and goes on, as in the kernel.
   */
  track(ctx: PacketContext): ConntrackDrop | null {
    if (ctx.ctId >= 0) return null; // Already tracked (a packet looping back from OUTPUT keeps its entry).
    if (ctx.notrack) {
      ctx.ctState = CtState.UNTRACKED;
      return null;
    }
    const table = this.table;
    if (ctx.isLaterFragment) {
      // Without reassembly there are no ports to find the connection by.
      return this.invalid(ctx);
    }
    const protocol = ctx.protocol;
    let ports = 0;
    if (protocol === IPPROTO_TCP || protocol === IPPROTO_UDP) {
      if (!ctx.hasTransport) return this.invalid(ctx);
      if (this.mustVerify(ctx) && !this.checksumOk(ctx)) return this.invalid(ctx);
      if (protocol === IPPROTO_TCP && !tcpFlagsValid(ctx.tcpFlags)) return this.invalid(ctx);
      ports = packPorts(ctx.sourcePort, ctx.destinationPort);
    } else if (protocol === IPPROTO_ICMP) {
      if (!ctx.hasTransport) return this.icmpError(ctx);
      if (this.mustVerify(ctx) && !ctx.icmp.verifyChecksum()) return this.icmpError(ctx);
      if (isIcmpError(ctx.icmpType)) return this.trackIcmpError(ctx);
      const id = (ctx.buf[ctx.transportOffset + 4]! << 8) | ctx.buf[ctx.transportOffset + 5]!;
      ports = packIcmp(id, ctx.icmpType, ctx.icmpCode);
    }

    const node = table.lookup(protocol, ctx.source, ctx.destination, ports, ctx.now);
    if (node >= 0) {
      const id = node >> 1;
      const dir = (node & 1) as Direction;
      ctx.ctId = id;
      ctx.ctDirection = dir;
      table.stats.found++;
      const status = table.status(id);
      ctx.ctState = dir === Direction.Reply || (status & CtStatus.SEEN_REPLY) !== 0 ? CtState.ESTABLISHED : CtState.NEW;
      if (table.events !== null) this.watch(id);
      const verdict = this.protocolPacket(ctx, id, dir);
      if (verdict === TcpVerdict.Invalid) return this.invalid(ctx);
      if (verdict === TcpVerdict.Reopen) return this.newConnection(ctx, protocol, ports);
      if (dir === Direction.Reply) table.addStatus(id, CtStatus.SEEN_REPLY);
      return null;
    }
    return this.newConnection(ctx, protocol, ports);
  }

  private invalid(ctx: PacketContext): null {
    ctx.ctId = -1;
    ctx.ctState = CtState.INVALID;
    this.table.stats.invalid++;
    return null;
  }

  /**
   * An ICMP packet conntrack cannot use: INVALID as well, but counted as `error` only (the kernel's
   * nf_conntrack_handle_icmp; since 5.10 it no longer counts `invalid` too).
   */
  private icmpError(ctx: PacketContext): null {
    ctx.ctId = -1;
    ctx.ctState = CtState.INVALID;
    this.table.stats.error++;
    return null;
  }

  /** nf_conntrack_checksum: at PREROUTING only, and not when the device already verified the sum. */
  private mustVerify(ctx: PacketContext): boolean {
    return this.verifyChecksums && !ctx.checksumVerified && ctx.hook === "PREROUTING";
  }

  private checksumOk(ctx: PacketContext): boolean {
    if (ctx.protocol === IPPROTO_TCP) return ctx.tcp.verifyChecksum(ctx.source, ctx.destination);
    return ctx.udp.checksum === 0 || ctx.udp.verifyChecksum(ctx.source, ctx.destination);
  }

  private newConnection(ctx: PacketContext, protocol: number, ports: number): ConntrackDrop | null {
    const table = this.table;
    let tcpState = TcpState.None;
    if (protocol === IPPROTO_TCP) {
      tcpState = tcpNewState(ctx.tcpFlags, this.tcpLoose);
      if (tcpState === TcpState.Invalid) return this.invalid(ctx);
    } else if (protocol === IPPROTO_ICMP && !icmpStartsConnection(ctx.icmpType)) {
      return this.invalid(ctx);
    }
    const replyPorts = invertPorts(protocol, ports);
    let id = table.allocate(protocol, ctx.source, ctx.destination, ports >>> 16, ports & 0xffff, replyPorts);
    if (id < 0) {
      const hint = table.hashHint(protocol, ctx.source, ctx.destination, ports);
      if (table.earlyDrop(hint, ctx.now)) id = table.allocate(protocol, ctx.source, ctx.destination, ports >>> 16, ports & 0xffff, replyPorts);
      if (id < 0) {
        // "nf_conntrack: table full, dropping packet"
        table.stats.drop++;
        return "conntrack-table-full";
      }
    }
    table.setCreated(id, ctx.now);
    table.setTcp(id, tcpState, protocol === IPPROTO_TCP ? tcpFlagClass(ctx.tcpFlags) : 0, Direction.Original, 0);
    table.setExpires(id, ctx.now + this.initialTimeout(protocol, tcpState));
    ctx.ctId = id;
    ctx.ctDirection = Direction.Original;
    ctx.ctState = CtState.NEW;
    return null;
  }

  private initialTimeout(protocol: number, tcpState: TcpState): number {
    const t = this.timeouts;
    if (protocol === IPPROTO_TCP) {
      // A picked-up connection has seen no reply: keep it short until one arrives.
      const timeout = tcpTimeout(t, tcpState);
      return tcpState === TcpState.Established ? Math.min(timeout, t.tcpUnacknowledged) : timeout;
    }
    if (protocol === IPPROTO_UDP) return t.udpUnreplied;
    if (protocol === IPPROTO_ICMP) return t.icmp;
    return t.generic;
  }

  /** The protocol tracker for a packet of a known connection. */
  private protocolPacket(ctx: PacketContext, id: number, dir: Direction): TcpVerdict {
    const table = this.table;
    const t = this.timeouts;
    const now = ctx.now;
    switch (table.protocol(id)) {
      case IPPROTO_TCP:
        return this.tcpPacket(ctx, id, dir);
      case IPPROTO_UDP: {
        const status = table.status(id);
        if (status & CtStatus.SEEN_REPLY) {
          const stream = now - table.created(id) > UDP_STREAM_AFTER_MS;
          table.setExpires(id, now + (stream ? t.udpStream : t.udpUnreplied));
          if (stream) table.addStatus(id, CtStatus.ASSURED);
        } else {
          table.setExpires(id, now + t.udpUnreplied);
        }
        return TcpVerdict.Ok;
      }
      case IPPROTO_ICMP:
        table.setExpires(id, now + t.icmp);
        return TcpVerdict.Ok;
      default:
        table.setExpires(id, now + t.generic);
        return TcpVerdict.Ok;
    }
  }

  private tcpPacket(ctx: PacketContext, id: number, dir: Direction): TcpVerdict {
    const table = this.table;
    const flagClass = tcpFlagClass(ctx.tcpFlags);
    const oldState = table.tcpState(id) as TcpState;
    const closeInit = table.tcpCloseInit(id);
    let newState = tcpTransition(dir, flagClass, oldState);

    if (newState === TcpState.SynSent && oldState >= TcpState.TimeWait) {
      // A SYN reopening a closed connection: if it had been closing or reset from this side,
      // forget the old connection and track the SYN as a new one (the kernel's NF_REPEAT);
      // otherwise the SYN is ignored like the other out-of-state segments below.
      const closing = closeInit !== 0;
      const resetHere = table.tcpLastDir(id) === dir && table.tcpLastClass(id) === TcpFlagClass.Rst;
      if (closing || resetHere) {
        this.watchedId = -1;
        table.remove(id);
        ctx.ctId = -1;
        return TcpVerdict.Reopen;
      }
      newState = TcpState.Ignore;
    }
    if (newState === TcpState.Ignore) {
      // Segments the state table ignores pass without changing anything.
      table.setTcp(id, oldState, flagClass, dir, closeInit);
      return TcpVerdict.Ok;
    }
    if (newState === TcpState.Invalid) return TcpVerdict.Invalid;

    const startsClosing = oldState !== newState && newState === TcpState.FinWait;
    table.setTcp(id, newState, flagClass, dir, startsClosing ? closeInit | (1 << dir) : closeInit);

    const status = table.status(id);
    let timeout = tcpTimeout(this.timeouts, newState);
    if ((status & CtStatus.SEEN_REPLY) === 0) {
      if (flagClass === TcpFlagClass.Rst) {
        // The only answer was a reset: no connection to keep (the kernel kills it at once).
        table.setExpires(id, ctx.now);
        return TcpVerdict.Ok;
      }
      if (newState === TcpState.Established) timeout = Math.min(timeout, this.timeouts.tcpUnacknowledged);
    } else if ((status & CtStatus.ASSURED) === 0 && (oldState === TcpState.SynRecv || oldState === TcpState.Established) && newState === TcpState.Established) {
      table.setStatus(id, status | CtStatus.ASSURED);
    }
    table.setExpires(id, ctx.now + timeout);
    return TcpVerdict.Ok;
  }

  /**
   * An ICMP error belongs to the connection of the packet it quotes: look up that packet's tuple
   * reversed (the error travels back towards the quoted packet's sender). Found: RELATED.
   */
  private trackIcmpError(ctx: PacketContext): null {
    const icmp = ctx.icmp;
    if (icmp.openInner() !== "ok") return this.icmpError(ctx);
    const inner = icmp.inner;
    const protocol = inner.protocol;
    let ports = 0;
    const l4 = inner.payloadOffset;
    const buf = ctx.buf;
    if (protocol === IPPROTO_TCP || protocol === IPPROTO_UDP) {
      const sport = (buf[l4]! << 8) | buf[l4 + 1]!;
      const dport = (buf[l4 + 2]! << 8) | buf[l4 + 3]!;
      ports = packPorts(dport, sport);
    } else if (protocol === IPPROTO_ICMP) {
      const type = buf[l4]!;
      const code = buf[l4 + 1]!;
      const id = (buf[l4 + 4]! << 8) | buf[l4 + 5]!;
      const inverted = invertPorts(IPPROTO_ICMP, packIcmp(id, type, code));
      if (inverted < 0) return this.icmpError(ctx);
      ports = inverted;
    }
    const node = this.table.lookup(protocol, inner.destination, inner.source, ports, ctx.now);
    if (node < 0) return this.icmpError(ctx);
    ctx.ctId = node >> 1;
    ctx.ctDirection = node & 1;
    ctx.ctState = CtState.RELATED;
    this.table.stats.found++;
    return null;
  }

  /**
   * Puts the packet's new connection into the table once it passed every hook (the kernel confirms
   * at the last hook, so a dropped packet leaves nothing behind).
   */
  confirm(ctx: PacketContext): ConntrackDrop | null {
    if (this.watchedId >= 0) this.reportUpdate(ctx.now);
    const id = ctx.ctId;
    if (id < 0 || ctx.ctState === CtState.RELATED) return null;
    const table = this.table;
    if (!table.isLive(id) || table.isConfirmed(id)) return null;
    if (!table.confirm(id, ctx.now)) {
      table.remove(id);
      ctx.ctId = -1;
      return "conntrack-insert-failed";
    }
    return null;
  }

  /** Forgets the packet's unconfirmed connection when the packet is dropped. */
  abandon(ctx: PacketContext): void {
    if (this.watchedId >= 0) this.reportUpdate(ctx.now);
    const id = ctx.ctId;
    if (id >= 0 && this.table.isLive(id) && !this.table.isConfirmed(id)) this.table.remove(id);
    ctx.ctId = -1;
  }

  private watch(id: number): void {
    const table = this.table;
    this.watchedId = id;
    this.watchedTcpState = table.tcpState(id);
    this.watchedStatus = table.status(id) & (CtStatus.SEEN_REPLY | CtStatus.ASSURED);
    this.watchedMark = table.mark(id);
  }

  /** An UPDATE event when the packet changed its connection's TCP state, reply/assured bits or mark. */
  private reportUpdate(now: number): void {
    const id = this.watchedId;
    this.watchedId = -1;
    const table = this.table;
    if (table.events === null || !table.isLive(id) || !table.isConfirmed(id)) return;
    if (
      table.tcpState(id) !== this.watchedTcpState ||
      (table.status(id) & (CtStatus.SEEN_REPLY | CtStatus.ASSURED)) !== this.watchedStatus ||
      table.mark(id) !== this.watchedMark
    ) {
      table.events("UPDATE", id, now);
    }
  }
}
