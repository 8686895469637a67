// The packet loop: batches from each TUN through the engine and back.
//
//   TUN of interface X  -> engine.receive(packet, X)   (arrived on X: PREROUTING ... )
//   upt-OUTPUT          -> engine.send(packet)          (sent by the host: OUTPUT ... )
//
// An accepted packet is written back into the TUN it came from; the kernel routes it again with
// `iif <tun>`, which no diversion rule matches, so the main table forwards it or the local table
// delivers it. REJECT's replies go into the same TUN. Dropped packets are counted by reason.
//
// TTL (recipe step 6): the engine runs with decrementTtl off. A packet from interface X was
// already forwarded once by the kernel into the TUN (TTL - 1); written back and forwarded again it
// would lose a second one; delivered locally it loses none. The kernel's own path decrements once
// when forwarding and never when delivering. A packet the host sends was not decremented on its way
// into upt-OUTPUT, but is forwarded after the write (TTL - 1), where the kernel's own path would
// not decrement. So every packet written back gets TTL + 1 (header checksum updated), except a
// host's packet delivered to the host itself (output looped back: no decrement on either path).
// REJECT's replies are the host's own packets forwarded out after the write: TTL + 1 as well.
//
// With offloads (TUNs opened with IFF_VNET_HDR, see offload.ts) each packet sits behind its
// virtio_net_hdr, which is written back unchanged; the engine sees only the IP packet.
import type { Netfilter, PacketResult } from "../core/engine/netfilter.ts";
import { checksumUpdate16 } from "../core/packet/checksum.ts";
import { formatAddress } from "../core/net/ipv4-address.ts";
import type { PacketBatch, TunDevice } from "../io/tun.ts";
import { checksumVouchedFor, needsChecksum, refreshPartialChecksum, vnetFlags, withEmptyVnetHeader } from "./offload.ts";

export interface LoopStats {
  packetsIn: number;
  accepted: number;
  dropped: number;
  replies: number;
  bytesIn: number;
  /** Packets the engine threw on (a bug): dropped, counted here and logged. */
  engineErrors: number;
}

export interface LoopOptions {
  verbose: boolean;
  log: (line: string) => void;
  /** Called when a TUN fails (deleted under us...): the daemon then stops. */
  onFatal: (error: Error) => void;
}

/** Adds 1 to an IPv4 packet's TTL, fixing the header checksum (no-op at 255). */
export function incrementTtl(buf: Uint8Array, at: number): void {
  const ttl = buf[at + 8]!;
  if (ttl >= 255) return;
  const proto = buf[at + 9]!;
  const oldWord = (ttl << 8) | proto;
  const newWord = ((ttl + 1) << 8) | proto;
  const check = (buf[at + 10]! << 8) | buf[at + 11]!;
  const fixed = checksumUpdate16(check, oldWord, newWord);
  buf[at + 8] = ttl + 1;
  buf[at + 10] = fixed >>> 8;
  buf[at + 11] = fixed & 0xff;
}

const PROTOS: Record<number, string> = { 1: "icmp", 6: "tcp", 17: "udp" };

/** "tcp 192.168.0.50:40000 > 192.168.0.100:8080" for an IPv4 packet at buf[at...]. */
export function describePacket(buf: Uint8Array, at: number, length: number): string {
  if (length < 20 || buf[at]! >> 4 !== 4) return `non-IPv4 (${length} bytes)`;
  const src = formatAddress(((buf[at + 12]! << 24) | (buf[at + 13]! << 16) | (buf[at + 14]! << 8) | buf[at + 15]!) >>> 0);
  const dst = formatAddress(((buf[at + 16]! << 24) | (buf[at + 17]! << 16) | (buf[at + 18]! << 8) | buf[at + 19]!) >>> 0);
  const proto = buf[at + 9]!;
  const ihl = (buf[at]! & 0x0f) * 4;
  const name = PROTOS[proto] ?? `proto ${proto}`;
  if ((proto === 6 || proto === 17) && length >= ihl + 4) {
    const sp = (buf[at + ihl]! << 8) | buf[at + ihl + 1]!;
    const dp = (buf[at + ihl + 2]! << 8) | buf[at + ihl + 3]!;
    return `${name} ${src}:${sp} > ${dst}:${dp} ttl ${buf[at + 8]}`;
  }
  return `${name} ${src} > ${dst} ttl ${buf[at + 8]}`;
}

/** One TUN's reader: engine per packet, accepted packets written back in one batch. */
class TunPump {
  private readonly views: Uint8Array[] = [];
  private readonly outOffsets: Uint32Array;
  private readonly outLengths: Uint32Array;

  constructor(
    readonly tun: TunDevice,
    /** The interface the TUN stands for, or null for upt-OUTPUT. */
    private readonly iface: string | null,
    private readonly engine: () => Netfilter,
    private readonly stats: LoopStats,
    private readonly options: LoopOptions,
  ) {
    const n = tun.batchSize;
    this.outOffsets = new Uint32Array(n);
    this.outLengths = new Uint32Array(n);
  }

  start(): void {
    this.tun.onPackets(
      (batch) => this.handle(batch),
      (error) => this.options.onFatal(new Error(`TUN ${this.tun.name}: ${error.message}`)),
    );
  }

  private view(batch: PacketBatch, i: number): Uint8Array {
    let v = this.views[i];
    if (v === undefined || v.buffer !== batch.buffer.buffer) {
      const start = batch.offsets[i]! + batch.headerLength;
      const end = i + 1 < batch.offsets.length ? batch.offsets[i + 1]! : batch.buffer.length;
      v = batch.buffer.subarray(start, end);
      this.views[i] = v;
    }
    return v;
  }

  private handle(batch: PacketBatch): void {
    const engine = this.engine();
    const now = Date.now();
    const stats = this.stats;
    const verbose = this.options.verbose;
    let out = 0;
    let replies: Uint8Array[] | null = null;
    const header = batch.headerLength;
    for (let i = 0; i < batch.count; i++) {
      const pkt = this.view(batch, i);
      const len = batch.lengths[i]! - header;
      const flags = header > 0 ? vnetFlags(batch.buffer, batch.offsets[i]!) : 0;
      stats.packetsIn++;
      stats.bytesIn += len;
      const before = verbose ? describePacket(pkt, 0, len) : "";
      let result: PacketResult;
      try {
        result = this.iface === null ? engine.send(pkt, len, now) : engine.receive(pkt, len, this.iface, now, checksumVouchedFor(flags));
      } catch (error) {
        stats.dropped++;
        stats.engineErrors++;
        this.options.log(`${this.tun.name}: engine error on ${describePacket(pkt, 0, len)}: ${(error as Error).stack ?? error}`);
        continue;
      }
      for (const line of result.logs) this.options.log(line);
      if (result.replies.length > 0) {
        replies ??= [];
        for (const r of result.replies) {
          const copy = Uint8Array.from(r);
          incrementTtl(copy, 0);
          replies.push(header > 0 ? withEmptyVnetHeader(copy) : copy);
        }
        stats.replies += result.replies.length;
      }
      if (!result.accepted) {
        stats.dropped++;
        if (verbose) this.options.log(`${this.iface ?? "OUTPUT"}: ${before} -> DROP (${result.dropReason ?? "?"})`);
        continue;
      }
      stats.accepted++;
      const loopedBack = result.path === "output" && result.outInterface === null;
      if (!loopedBack) incrementTtl(pkt, 0);
      if (needsChecksum(flags)) refreshPartialChecksum(pkt);
      this.outOffsets[out] = batch.offsets[i]!;
      this.outLengths[out] = result.length + header;
      out++;
      if (verbose) {
        const where = result.outInterface === null ? "local" : `out ${result.outInterface}`;
        this.options.log(`${this.iface ?? "OUTPUT"}: ${before} -> ${result.path} ${where}: ${describePacket(pkt, 0, result.length)}`);
      }
    }
    if (out > 0) this.tun.write({ buffer: batch.buffer, offsets: this.outOffsets, lengths: this.outLengths, count: out });
    if (replies !== null) this.tun.writePackets(replies);
  }
}

/** Runs the engine over every TUN of the datapath. */
export class PacketLoop {
  readonly stats: LoopStats = { packetsIn: 0, accepted: 0, dropped: 0, replies: 0, bytesIn: 0, engineErrors: 0 };
  private readonly pumps: TunPump[] = [];
  private gcTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly engine: Netfilter,
    tuns: readonly { tun: TunDevice; iface: string | null }[],
    private readonly options: LoopOptions,
  ) {
    for (const t of tuns) this.pumps.push(new TunPump(t.tun, t.iface, () => this.engine, this.stats, options));
  }

  start(gcIntervalMs = 1000, gcBudget = 4096): void {
    for (const p of this.pumps) p.start();
    this.gcTimer = setInterval(() => {
      const removed = this.engine.collectGarbage(Date.now(), gcBudget);
      if (removed > 0 && this.options.verbose) this.options.log(`conntrack: ${removed} expired entries removed`);
    }, gcIntervalMs);
  }

  /** Pumps one more TUN: an interface taken over while the daemon runs. */
  add(tun: TunDevice, iface: string): void {
    const pump = new TunPump(tun, iface, () => this.engine, this.stats, this.options);
    this.pumps.push(pump);
    if (this.gcTimer !== null) pump.start();
  }

  /** Forgets a TUN whose interface was released (the datapath closed it). */
  remove(tun: TunDevice): void {
    const at = this.pumps.findIndex((p) => p.tun === tun);
    if (at >= 0) this.pumps.splice(at, 1);
  }

  stop(): void {
    if (this.gcTimer !== null) clearInterval(this.gcTimer);
    this.gcTimer = null;
  }
}
