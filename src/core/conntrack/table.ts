// The connection table: every tracked connection's two tuples (original and reply) and its state,
// kept in typed arrays (columns indexed by connection id) with a chained hash over both tuples, as
// the kernel's nf_conntrack_hash holds both tuplehash entries of each nf_conn. The hot lookup touches
// only numbers: no objects are allocated per packet.
//
// A tuple is (protocol, source, destination, source "port", destination "port"); for ICMP the ports
// are the echo identifier and the type/code (see tuple.ts). A node is `id * 2 + direction`.
import { CtStatus, Direction, TcpState } from "./states.ts";
import type { ConntrackEventSink } from "./events.ts";

export interface ConntrackTableOptions {
  /** nf_conntrack_max: how many connections may be tracked at once. */
  readonly maxEntries: number;
  /** Hash buckets (rounded up to a power of two); defaults to twice maxEntries. */
  readonly buckets?: number;
  /** Seed of the tuple hash (the kernel randomises it so flows cannot be aimed at one bucket). */
  readonly seed?: number;
}

/** Counters as `conntrack -S` reports them. */
export interface ConntrackStats {
  found: number;
  invalid: number;
  insert: number;
  insertFailed: number;
  drop: number;
  earlyDrop: number;
  /** ICMP packets conntrack could not use (bad header or checksum, an error quoting no known connection). */
  error: number;
  searchRestart: number;
}

const NONE = -1;

export class ConntrackTable {
  readonly maxEntries: number;
  private readonly bucketMask: number;
  private readonly seed: number;

  // Per node (id * 2 + direction): the tuple, and the next node in its hash chain.
  readonly tupleSrc: Uint32Array;
  readonly tupleDst: Uint32Array;
  /** sourcePort << 16 | destinationPort (ICMP: id << 16 | type << 8 | code). */
  readonly tuplePorts: Uint32Array;
  private readonly next: Int32Array;
  private readonly heads: Int32Array;

  // Per connection id.
  readonly protocol: Uint8Array;
  readonly status: Uint16Array;
  /** Absolute expiry time in milliseconds of the table's clock. */
  readonly expires: Float64Array;
  /** When the connection was created (UDP's "stream after two seconds" rule needs it). */
  readonly created: Float64Array;
  readonly mark: Uint32Array;
  readonly tcpState: Uint8Array;
  /** TCP: the flag class and direction of the last segment, and per-direction close-initiated bits. */
  readonly tcpLastClass: Uint8Array;
  readonly tcpLastDir: Uint8Array;
  readonly tcpCloseInit: Uint8Array;
  /** Whether the id holds a connection (confirmed or not). */
  private readonly inUse: Uint8Array;

  private readonly freeIds: Int32Array;
  private freeCount: number;
  /** Confirmed connections (in the hash). */
  confirmedCount = 0;
  /** Allocated ids, confirmed or not. */
  allocatedCount = 0;
  private gcCursor = 0;
  /** Told of new and removed connections (and, by the tracker, of updates); null while nobody listens. */
  events: ConntrackEventSink | null = null;

  readonly stats: ConntrackStats = { found: 0, invalid: 0, insert: 0, insertFailed: 0, drop: 0, earlyDrop: 0, error: 0, searchRestart: 0 };

  constructor(opts: ConntrackTableOptions) {
    if (!Number.isInteger(opts.maxEntries) || opts.maxEntries < 1) throw new RangeError("maxEntries must be a positive integer");
    this.maxEntries = opts.maxEntries;
    const wanted = opts.buckets ?? opts.maxEntries * 2;
    let buckets = 1;
    while (buckets < wanted) buckets *= 2;
    this.bucketMask = buckets - 1;
    this.seed = (opts.seed ?? 0x9e3779b9) >>> 0;
    const nodes = opts.maxEntries * 2;
    this.tupleSrc = new Uint32Array(nodes);
    this.tupleDst = new Uint32Array(nodes);
    this.tuplePorts = new Uint32Array(nodes);
    this.next = new Int32Array(nodes).fill(NONE);
    this.heads = new Int32Array(buckets).fill(NONE);
    const n = opts.maxEntries;
    this.protocol = new Uint8Array(n);
    this.status = new Uint16Array(n);
    this.expires = new Float64Array(n);
    this.created = new Float64Array(n);
    this.mark = new Uint32Array(n);
    this.tcpState = new Uint8Array(n);
    this.tcpLastClass = new Uint8Array(n);
    this.tcpLastDir = new Uint8Array(n);
    this.tcpCloseInit = new Uint8Array(n);
    this.inUse = new Uint8Array(n);
    this.freeIds = new Int32Array(n);
    // Hand out low ids first (better locality while the table is small).
    for (let i = 0; i < n; i++) this.freeIds[i] = n - 1 - i;
    this.freeCount = n;
  }

  /** Bytes held by the table's arrays, for the benchmark's bytes-per-entry figure. */
  get memoryBytes(): number {
    const arrays = [
      this.tupleSrc, this.tupleDst, this.tuplePorts, this.next, this.heads, this.protocol, this.status, this.expires,
      this.created, this.mark, this.tcpState, this.tcpLastClass, this.tcpLastDir, this.tcpCloseInit, this.inUse, this.freeIds,
    ];
    return arrays.reduce((sum, a) => sum + a.byteLength, 0);
  }

  /** A murmur3-style mix of the tuple; cheap, and spreads sequential addresses and ports well. */
  private bucketOf(protocol: number, src: number, dst: number, ports: number): number {
    let h = this.seed ^ protocol;
    h = Math.imul(h ^ src, 0xcc9e2d51);
    h = (h << 15) | (h >>> 17);
    h = Math.imul(h ^ dst, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = Math.imul(h ^ ports, 0xe6546b64);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    return h & this.bucketMask;
  }

  /**
   * The node whose tuple equals the given one, or -1. A connection found expired is removed first
   * (the kernel's lookup ignores and reaps dead entries).
   */
  lookup(protocol: number, src: number, dst: number, ports: number, now: number): number {
    const bucket = this.bucketOf(protocol, src, dst, ports);
    let node = this.heads[bucket]!;
    while (node !== NONE) {
      const id = node >> 1;
      if (this.tupleSrc[node] === src && this.tupleDst[node] === dst && this.tuplePorts[node] === ports && this.protocol[id] === protocol) {
        if (this.expires[id]! <= now && (this.status[id]! & CtStatus.FIXED_TIMEOUT) === 0) {
          this.remove(id);
          return NONE;
        }
        return node;
      }
      node = this.next[node]!;
    }
    return NONE;
  }

  /** Whether a confirmed connection other than `exceptId` uses this tuple (in either direction). */
  tupleTaken(protocol: number, src: number, dst: number, ports: number, now: number, exceptId = NONE): boolean {
    const node = this.lookup(protocol, src, dst, ports, now);
    return node !== NONE && node >> 1 !== exceptId;
  }

  /**
   * A new, unconfirmed connection for the original tuple, with the reply tuple set to its inverse;
   * -1 when the table is full (the caller may try `earlyDrop` first).
   */
  allocate(protocol: number, src: number, dst: number, sport: number, dport: number, replyPorts: number): number {
    if (this.freeCount === 0) return NONE;
    const id = this.freeIds[--this.freeCount]!;
    this.inUse[id] = 1;
    this.allocatedCount++;
    const orig = id * 2;
    const reply = orig + 1;
    this.protocol[id] = protocol;
    this.tupleSrc[orig] = src;
    this.tupleDst[orig] = dst;
    this.tuplePorts[orig] = ((sport << 16) | dport) >>> 0;
    this.tupleSrc[reply] = dst;
    this.tupleDst[reply] = src;
    this.tuplePorts[reply] = replyPorts >>> 0;
    this.status[id] = 0;
    this.expires[id] = 0;
    this.created[id] = 0;
    this.mark[id] = 0;
    this.tcpState[id] = TcpState.None;
    this.tcpLastClass[id] = 0;
    this.tcpLastDir[id] = 0;
    this.tcpCloseInit[id] = 0;
    this.next[orig] = NONE;
    this.next[reply] = NONE;
    return id;
  }

  /** NAT changes the reply tuple before the connection is confirmed. */
  setReplyTuple(id: number, src: number, dst: number, ports: number): void {
    const reply = id * 2 + 1;
    this.tupleSrc[reply] = src;
    this.tupleDst[reply] = dst;
    this.tuplePorts[reply] = ports >>> 0;
  }

  isConfirmed(id: number): boolean {
    return (this.status[id]! & CtStatus.CONFIRMED) !== 0;
  }

  /**
   * Puts an unconfirmed connection into the hash (nf_conntrack_confirm); false when one of its
   * tuples is already there (a race the kernel counts as insert_failed and drops the packet for).
   */
  confirm(id: number, now: number): boolean {
    const orig = id * 2;
    const reply = orig + 1;
    const protocol = this.protocol[id]!;
    if (
      this.lookup(protocol, this.tupleSrc[orig]!, this.tupleDst[orig]!, this.tuplePorts[orig]!, now) !== NONE ||
      this.lookup(protocol, this.tupleSrc[reply]!, this.tupleDst[reply]!, this.tuplePorts[reply]!, now) !== NONE
    ) {
      this.stats.insertFailed++;
      return false;
    }
    this.link(orig);
    this.link(reply);
    this.status[id] = this.status[id]! | CtStatus.CONFIRMED;
    this.confirmedCount++;
    this.stats.insert++;
    if (this.events !== null) this.events("NEW", id, now);
    return true;
  }

  private link(node: number): void {
    const id = node >> 1;
    const bucket = this.bucketOf(this.protocol[id]!, this.tupleSrc[node]!, this.tupleDst[node]!, this.tuplePorts[node]!);
    this.next[node] = this.heads[bucket]!;
    this.heads[bucket] = node;
  }

  private unlink(node: number): void {
    const id = node >> 1;
    const bucket = this.bucketOf(this.protocol[id]!, this.tupleSrc[node]!, this.tupleDst[node]!, this.tuplePorts[node]!);
    let current = this.heads[bucket]!;
    let previous = NONE;
    while (current !== NONE) {
      if (current === node) {
        if (previous === NONE) this.heads[bucket] = this.next[current]!;
        else this.next[previous] = this.next[current]!;
        this.next[node] = NONE;
        return;
      }
      previous = current;
      current = this.next[current]!;
    }
  }

  /** Frees a connection, confirmed or not. */
  remove(id: number): void {
    if (!this.inUse[id]) return;
    if (this.isConfirmed(id)) {
      if (this.events !== null) this.events("DESTROY", id);
      this.unlink(id * 2);
      this.unlink(id * 2 + 1);
      this.confirmedCount--;
    }
    this.inUse[id] = 0;
    this.status[id] = 0;
    this.allocatedCount--;
    this.freeIds[this.freeCount++] = id;
  }

  isLive(id: number): boolean {
    return this.inUse[id] === 1;
  }

  /**
   * Frees room for a new connection by dropping one that is not ASSURED, looking at the chains near
   * `hint` first as the kernel's early_drop does; true when one was dropped.
   */
  earlyDrop(hint: number, now: number): boolean {
    const buckets = this.bucketMask + 1;
    const tries = Math.min(buckets, 64);
    for (let i = 0; i < tries; i++) {
      const bucket = (hint + i) & this.bucketMask;
      let victim = NONE;
      let victimExpires = Infinity;
      for (let node = this.heads[bucket]!; node !== NONE; node = this.next[node]!) {
        const id = node >> 1;
        if (this.expires[id]! <= now) {
          victim = id;
          victimExpires = -Infinity;
          break;
        }
        if ((this.status[id]! & CtStatus.ASSURED) === 0 && this.expires[id]! < victimExpires) {
          victim = id;
          victimExpires = this.expires[id]!;
        }
      }
      if (victim !== NONE) {
        this.remove(victim);
        this.stats.earlyDrop++;
        return true;
      }
    }
    return false;
  }

  /** The bucket a tuple hashes to, as a hint for earlyDrop. */
  hashHint(protocol: number, src: number, dst: number, ports: number): number {
    return this.bucketOf(protocol, src, dst, ports);
  }

  /**
   * Removes expired connections, scanning at most `budget` ids from where the last call stopped
   * (the kernel's gc worker also walks the table in slices). Returns how many were removed.
   */
  collectGarbage(now: number, budget = this.maxEntries): number {
    let removed = 0;
    const n = this.maxEntries;
    for (let i = 0; i < budget && i < n; i++) {
      const id = this.gcCursor;
      this.gcCursor = (this.gcCursor + 1) % n;
      if (this.inUse[id] && this.isConfirmed(id) && this.expires[id]! <= now && (this.status[id]! & CtStatus.FIXED_TIMEOUT) === 0) {
        this.remove(id);
        removed++;
      }
    }
    return removed;
  }

  /** Every confirmed connection's id, in id order. */
  *confirmedIds(): Generator<number> {
    for (let id = 0; id < this.maxEntries; id++) if (this.inUse[id] && this.isConfirmed(id)) yield id;
  }

  /** Removes every connection (conntrack -F). */
  flush(): number {
    let removed = 0;
    for (let id = 0; id < this.maxEntries; id++) {
      if (this.inUse[id]) {
        this.remove(id);
        removed++;
      }
    }
    return removed;
  }
}

export function nodeId(node: number): number {
  return node >> 1;
}

export function nodeDirection(node: number): Direction {
  return (node & 1) as Direction;
}
