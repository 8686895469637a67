// The connection table: every tracked connection's two tuples (original and reply) and its state,
// kept in one typed array of 64-byte records (one per connection id) with a chained hash over both
// tuples, as the kernel's nf_conntrack_hash holds both tuplehash entries of each nf_conn. The hot
// lookup touches only numbers: no objects are allocated per packet.
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

// One connection is one record of RECORD_WORDS 32-bit words (64 bytes, one cache line): both tuples
// with their hash-chain links, then the state a packet of the connection reads and writes. A lookup
// at 1M connections then costs the bucket head and this one line, where one array per field cost a
// cache miss per field. Node `id * 2 + direction` is the tuple at word (direction * 4) of record id.
const RECORD_WORDS = 16;
const NODE_WORDS = 4;
const W_SRC = 0;
const W_DST = 1;
/** sourcePort << 16 | destinationPort (ICMP: id << 16 | type << 8 | code). */
const W_PORTS = 2;
/** The next node in the hash chain (-1 stored as 0xffffffff). */
const W_NEXT = 3;
/** protocol | inUse << 8 */
const W_PROTOCOL = 8;
const W_STATUS = 9;
const W_MARK = 10;
/** tcpState | tcpLastClass << 8 | tcpLastDir << 16 | tcpCloseInit << 24 */
const W_TCP = 11;
/** Float64 slots (index in the Float64Array view) of a record: expiry and creation times. */
const F_EXPIRES = 6;
const F_CREATED = 7;
const IN_USE = 0x100;

/** The word where node's tuple starts. */
function nodeWord(node: number): number {
  return ((node >> 1) << 4) | ((node & 1) << 2);
}

export class ConntrackTable {
  readonly maxEntries: number;
  private readonly bucketMask: number;
  private readonly seed: number;

  /** The connection records (see RECORD_WORDS), and the same memory as 64-bit floats for the times. */
  private readonly records: Uint32Array;
  private readonly times: Float64Array;
  private readonly heads: Int32Array;

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
    const n = opts.maxEntries;
    const memory = new ArrayBuffer(n * RECORD_WORDS * 4);
    this.records = new Uint32Array(memory);
    this.times = new Float64Array(memory);
    this.heads = new Int32Array(buckets).fill(NONE);
    this.freeIds = new Int32Array(n);
    // Hand out low ids first (better locality while the table is small).
    for (let i = 0; i < n; i++) this.freeIds[i] = n - 1 - i;
    this.freeCount = n;
  }

  /** Bytes held by the table's arrays, for the benchmark's bytes-per-entry figure. */
  get memoryBytes(): number {
    return this.records.byteLength + this.heads.byteLength + this.freeIds.byteLength;
  }

  // --- a node's tuple (node = id * 2 + direction) ---------------------------------------------

  tupleSrc(node: number): number {
    return this.records[nodeWord(node) + W_SRC]!;
  }

  tupleDst(node: number): number {
    return this.records[nodeWord(node) + W_DST]!;
  }

  /** sourcePort << 16 | destinationPort (ICMP: id << 16 | type << 8 | code). */
  tuplePorts(node: number): number {
    return this.records[nodeWord(node) + W_PORTS]!;
  }

  // --- a connection's state --------------------------------------------------------------------

  protocol(id: number): number {
    return this.records[id * RECORD_WORDS + W_PROTOCOL]! & 0xff;
  }

  /** ct->status: CtStatus bits. */
  status(id: number): number {
    return this.records[id * RECORD_WORDS + W_STATUS]!;
  }

  setStatus(id: number, status: number): void {
    this.records[id * RECORD_WORDS + W_STATUS] = status;
  }

  addStatus(id: number, bits: number): void {
    this.records[id * RECORD_WORDS + W_STATUS] |= bits;
  }

  mark(id: number): number {
    return this.records[id * RECORD_WORDS + W_MARK]!;
  }

  setMark(id: number, mark: number): void {
    this.records[id * RECORD_WORDS + W_MARK] = mark;
  }

  /** Absolute expiry time in milliseconds of the table's clock. */
  expires(id: number): number {
    return this.times[id * (RECORD_WORDS / 2) + F_EXPIRES]!;
  }

  setExpires(id: number, when: number): void {
    this.times[id * (RECORD_WORDS / 2) + F_EXPIRES] = when;
  }

  /** When the connection was created (UDP's "stream after two seconds" rule needs it). */
  created(id: number): number {
    return this.times[id * (RECORD_WORDS / 2) + F_CREATED]!;
  }

  setCreated(id: number, when: number): void {
    this.times[id * (RECORD_WORDS / 2) + F_CREATED] = when;
  }

  tcpState(id: number): number {
    return this.records[id * RECORD_WORDS + W_TCP]! & 0xff;
  }

  /** TCP: the flag class of the last segment. */
  tcpLastClass(id: number): number {
    return (this.records[id * RECORD_WORDS + W_TCP]! >>> 8) & 0xff;
  }

  /** TCP: the direction of the last segment. */
  tcpLastDir(id: number): number {
    return (this.records[id * RECORD_WORDS + W_TCP]! >>> 16) & 0xff;
  }

  /** TCP: per-direction bits, set when that side started closing (sent the first FIN). */
  tcpCloseInit(id: number): number {
    return this.records[id * RECORD_WORDS + W_TCP]! >>> 24;
  }

  /** Writes the TCP tracker's four fields at once (one word). */
  setTcp(id: number, state: number, lastClass: number, lastDir: number, closeInit: number): void {
    this.records[id * RECORD_WORDS + W_TCP] = (state | (lastClass << 8) | (lastDir << 16) | (closeInit << 24)) >>> 0;
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
    const records = this.records;
    let node = this.heads[this.bucketOf(protocol, src, dst, ports)]!;
    while (node !== NONE) {
      const at = nodeWord(node);
      const record = (node >> 1) * RECORD_WORDS;
      if (records[at + W_SRC] === src && records[at + W_DST] === dst && records[at + W_PORTS] === ports && (records[record + W_PROTOCOL]! & 0xff) === protocol) {
        const id = node >> 1;
        if (this.expires(id) <= now && (records[record + W_STATUS]! & CtStatus.FIXED_TIMEOUT) === 0) {
          this.remove(id);
          return NONE;
        }
        return node;
      }
      node = records[at + W_NEXT]! | 0;
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
    this.allocatedCount++;
    const r = this.records;
    const at = id * RECORD_WORDS;
    r[at + W_SRC] = src;
    r[at + W_DST] = dst;
    r[at + W_PORTS] = ((sport << 16) | dport) >>> 0;
    r[at + W_NEXT] = NONE;
    r[at + NODE_WORDS + W_SRC] = dst;
    r[at + NODE_WORDS + W_DST] = src;
    r[at + NODE_WORDS + W_PORTS] = replyPorts >>> 0;
    r[at + NODE_WORDS + W_NEXT] = NONE;
    r[at + W_PROTOCOL] = protocol | IN_USE;
    r[at + W_STATUS] = 0;
    r[at + W_MARK] = 0;
    r[at + W_TCP] = TcpState.None;
    this.setExpires(id, 0);
    this.setCreated(id, 0);
    return id;
  }

  /** NAT changes the reply tuple before the connection is confirmed. */
  setReplyTuple(id: number, src: number, dst: number, ports: number): void {
    const at = id * RECORD_WORDS + NODE_WORDS;
    this.records[at + W_SRC] = src;
    this.records[at + W_DST] = dst;
    this.records[at + W_PORTS] = ports >>> 0;
  }

  isConfirmed(id: number): boolean {
    return (this.status(id) & CtStatus.CONFIRMED) !== 0;
  }

  /**
   * Puts an unconfirmed connection into the hash (nf_conntrack_confirm); false when one of its
   * tuples is already there (a race the kernel counts as insert_failed and drops the packet for).
   */
  confirm(id: number, now: number): boolean {
    const orig = id * 2;
    const reply = orig + 1;
    const protocol = this.protocol(id);
    if (
      this.lookup(protocol, this.tupleSrc(orig), this.tupleDst(orig), this.tuplePorts(orig), now) !== NONE ||
      this.lookup(protocol, this.tupleSrc(reply), this.tupleDst(reply), this.tuplePorts(reply), now) !== NONE
    ) {
      this.stats.insertFailed++;
      return false;
    }
    this.link(orig);
    this.link(reply);
    this.addStatus(id, CtStatus.CONFIRMED);
    this.confirmedCount++;
    this.stats.insert++;
    if (this.events !== null) this.events("NEW", id, now);
    return true;
  }

  private bucketOfNode(node: number): number {
    return this.bucketOf(this.protocol(node >> 1), this.tupleSrc(node), this.tupleDst(node), this.tuplePorts(node));
  }

  private link(node: number): void {
    const bucket = this.bucketOfNode(node);
    this.records[nodeWord(node) + W_NEXT] = this.heads[bucket]!;
    this.heads[bucket] = node;
  }

  private nextOf(node: number): number {
    return this.records[nodeWord(node) + W_NEXT]! | 0;
  }

  private unlink(node: number): void {
    const bucket = this.bucketOfNode(node);
    let current = this.heads[bucket]!;
    let previous = NONE;
    while (current !== NONE) {
      if (current === node) {
        if (previous === NONE) this.heads[bucket] = this.nextOf(current);
        else this.records[nodeWord(previous) + W_NEXT] = this.nextOf(current);
        this.records[nodeWord(node) + W_NEXT] = NONE;
        return;
      }
      previous = current;
      current = this.nextOf(current);
    }
  }

  /** Frees a connection, confirmed or not. */
  remove(id: number): void {
    if (!this.isLive(id)) return;
    if (this.isConfirmed(id)) {
      if (this.events !== null) this.events("DESTROY", id);
      this.unlink(id * 2);
      this.unlink(id * 2 + 1);
      this.confirmedCount--;
    }
    this.records[id * RECORD_WORDS + W_PROTOCOL] = 0;
    this.setStatus(id, 0);
    this.allocatedCount--;
    this.freeIds[this.freeCount++] = id;
  }

  isLive(id: number): boolean {
    return (this.records[id * RECORD_WORDS + W_PROTOCOL]! & IN_USE) !== 0;
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
      for (let node = this.heads[bucket]!; node !== NONE; node = this.nextOf(node)) {
        const id = node >> 1;
        if (this.expires(id) <= now) {
          victim = id;
          victimExpires = -Infinity;
          break;
        }
        if ((this.status(id) & CtStatus.ASSURED) === 0 && this.expires(id) < victimExpires) {
          victim = id;
          victimExpires = this.expires(id);
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
      if (this.isLive(id) && this.isConfirmed(id) && this.expires(id) <= now && (this.status(id) & CtStatus.FIXED_TIMEOUT) === 0) {
        this.remove(id);
        removed++;
      }
    }
    return removed;
  }

  /** Every confirmed connection's id, in id order. */
  *confirmedIds(): Generator<number> {
    for (let id = 0; id < this.maxEntries; id++) if (this.isLive(id) && this.isConfirmed(id)) yield id;
  }

  /** Removes every connection (conntrack -F). */
  flush(): number {
    let removed = 0;
    for (let id = 0; id < this.maxEntries; id++) {
      if (this.isLive(id)) {
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
