// Fuzzes the engine (Netfilter.receive/send) with Docker's rule set: random bytes, and valid TCP,
// UDP, ICMP and ICMP-error packets (new flows, follow-ups, replies to what the engine let through,
// errors quoting it) mutated every way a wire can lie. After every packet:
//   - receive/send never throw;
//   - a dropped packet has a dropReason, an accepted one none, and the engine's drop counters grew
//     by exactly one, under that reason (so they add up to the number of drops);
//   - the engine drops "ip-header" exactly when an independent reading of the header says it is
//     malformed, "transport-header" exactly when the TCP/UDP/ICMP header is;
//   - a packet dropped for its headers is left byte for byte as it came, and nothing is written
//     past the packet (beyond what the result's length claims);
//   - an accepted packet has a valid IPv4 header checksum, a forwarded one a TTL one lower, and one
//     whose TCP/UDP/ICMP checksum was valid on input (not a fragment) still has a valid one;
//   - REJECT's replies are well-formed packets with valid checksums;
//   - conntrack leaves no unconfirmed entry behind a packet, and every few thousand packets:
//     confirmedCount equals the ids confirmedIds() yields (never above maxEntries), no two entries
//     share a tuple, and each tuple is found again through the hash.
import { readFileSync } from "node:fs";
import type { Netfilter, PacketResult } from "../../src/core/engine/netfilter.ts";
import type { PacketContext } from "../../src/core/engine/packet-context.ts";
import { CtState } from "../../src/core/conntrack/states.ts";
import type { HostDescription } from "../../src/core/host/host-view.ts";
import { parseDottedQuad } from "../../src/core/net/ipv4-address.ts";
import { engineFor, rulesFromSave } from "../support/engine.ts";
import { dockerRulesPath, loadFuzzCorpus } from "./fuzz-corpus.ts";
import {
  classifyL4,
  fillIpChecksum,
  fillL4Checksum,
  hex,
  ipHeaderValid,
  L4,
  l4ChecksumOk,
  onesSum,
  PROTO_ICMP,
  PROTO_TCP,
  PROTO_UDP,
  rd16,
  rd32,
  writePacket,
  wr16,
  wr32,
  type PacketFields,
} from "./packet-gen.ts";
import { deriveSeed, describeError, FailureLog, replayCommand, Rng, type FuzzFailure } from "./rng.ts";

/** The Docker host of test/core/engine/docker.test.ts. */
export const FUZZ_HOST: HostDescription = {
  interfaces: [
    { name: "eth0", addresses: ["192.168.0.100/24"] },
    { name: "docker0", addresses: ["172.17.0.1/16"] },
  ],
  routes: [{ destination: "default", gateway: "192.168.0.1", dev: "eth0" }],
};

export interface EngineFuzzStats {
  packets: number;
  accepted: number;
  dropped: number;
  byReason: Record<string, number>;
  byKind: Record<string, number>;
  byPath: Record<string, number>;
  /** Accepted packets by conntrack state. */
  byState: Record<string, number>;
  /** Accepted packets whose destination / source address NAT rewrote. */
  rewritten: { destination: number; source: number };
  /** Accepted packets whose transport checksum was valid on input and checked on output. */
  transportChecked: number;
  replies: number;
  /** Rule sets swapped in (with rotateRuleSets). */
  ruleSets: number;
  audits: number;
  /** Most confirmed connections seen at an audit. */
  confirmedMax: number;
  ms: number;
}

export interface EngineFuzzOptions {
  readonly seed: number;
  readonly packets?: number;
  readonly deadline?: number;
  readonly log?: FailureLog;
  readonly onProgress?: (stats: EngineFuzzStats) => void;
  /** nf_conntrack_max of the engine (default: 256, 16, 65536, 64 in turn, one per segment). */
  readonly maxEntries?: number;
  /** Packets per engine: each segment starts a fresh engine (default 250000). */
  readonly segment?: number;
  /** Audit the whole conntrack table every this many packets (default 8192). */
  readonly auditEvery?: number;
  /** Also swap in the corpus rule sets now and then (default false: Docker 27's only). */
  readonly rotateRuleSets?: boolean;
  /** With rotateRuleSets: swap rule sets about every this many packets (default 50000). */
  readonly rotateEvery?: number;
  /** With rotateRuleSets: only from this packet on (default 0). */
  readonly rotateFromPacket?: number;
}

export interface Violation {
  readonly invariant: string;
  readonly message: string;
}

const ip = (s: string): number => parseDottedQuad(s)!;

const LAN = ["192.168.0.50", "192.168.0.51", "192.168.0.1", "192.168.0.7"].map(ip);
const HOST_ADDRS = ["192.168.0.100", "172.17.0.1", "127.0.0.1"].map(ip);
const CONTAINERS = ["172.17.0.2", "172.17.0.3"].map(ip);
const INTERNET = ["8.8.8.8", "1.1.1.1", "203.0.113.7"].map(ip);
const SPECIAL = ["0.0.0.0", "255.255.255.255", "224.0.0.1", "172.17.255.255", "192.168.0.255", "127.0.0.5", "169.254.1.1", "240.0.0.1"].map(ip);
const PORTS = [80, 8080, 53, 40000, 40001, 40002, 40003, 443, 22, 0, 65535, 1023, 1024];
const IFACES = ["eth0", "eth0", "eth0", "docker0", "docker0", "docker0", "lo", "br-dummy", "veth0", ""];
const TCP_FLAG_CHOICES = [0x02, 0x12, 0x10, 0x18, 0x11, 0x04, 0x14, 0x01, 0x00, 0x3f, 0xff, 0x03, 0x06, 0x05, 0x29];
const ICMP_ERRORS: readonly (readonly [number, number])[] = [[3, 0], [3, 1], [3, 3], [3, 4], [3, 13], [11, 0], [11, 1], [12, 0], [4, 0], [5, 1]];

/** Bytes kept after the packet in the work buffer to catch writes past its end. */
const CANARY = 64;
const WORK_SIZE = 4096;

interface Remembered {
  readonly fields: PacketFields;
  readonly entry: string | null;
  /** The packet as the engine let it go (after NAT). */
  readonly out: Uint8Array;
  readonly path: string;
  readonly outInterface: string | null;
}

/** One engine and the running totals the per-packet invariants compare against. */
export class EngineChecker {
  dropsSeen = 0;
  private readonly before = new Uint8Array(WORK_SIZE);
  private readonly prev: Record<string, number> = {};

  constructor(readonly engine: Netfilter) {
    for (const [k, v] of Object.entries(engine.drops)) this.prev[k] = v;
  }

  /**
   * Sends `len` bytes of `work` through the engine (`entry`: the arriving interface, or null for
   * a packet the host sends) and checks the per-packet invariants. `exact` passes a view of exactly
   * `len` bytes instead of the whole work buffer.
   */
  check(work: Uint8Array, len: number, entry: string | null, now: number, exact: boolean, stats?: EngineFuzzStats): { violation: Violation | null; result: PacketResult | null } {
    const engine = this.engine;
    const validIp = ipHeaderValid(work, len);
    const l4 = validIp ? classifyL4(work) : { l4: L4.None, fragment: false };
    const transportWasValid = validIp && l4.l4 === L4.Ok && !l4.fragment;
    const ttlBefore = work[8]!;
    const quote = validIp && l4.l4 === L4.Ok && !l4.fragment && work[9] === PROTO_ICMP ? quotedPacket(work) : null;
    this.before.set(work.subarray(0, len + CANARY));
    for (let i = len; i < len + CANARY; i++) work[i] = 0xa5 ^ (i & 0xff);
    const v = (invariant: string, message: string): { violation: Violation; result: PacketResult | null } => ({ violation: { invariant, message }, result: null });

    let r: PacketResult;
    try {
      const buf = exact ? work.subarray(0, len) : work;
      r = entry === null ? engine.send(buf, len, now) : engine.receive(buf, len, entry, now);
    } catch (error) {
      this.resync();
      return v("throws", `${entry === null ? "send" : `receive on ${JSON.stringify(entry)}`} threw: ${describeError(error)}`);
    }
    if (stats) {
      stats.packets++;
      stats.byPath[r.path] = (stats.byPath[r.path] ?? 0) + 1;
    }

    // Drop bookkeeping.
    if (r.accepted === (r.dropReason !== null)) {
      this.resync();
      return v("drop-reason", `accepted=${r.accepted} with dropReason=${r.dropReason}`);
    }
    let grew = "";
    let total = 0;
    for (const [k, n] of Object.entries(engine.drops)) {
      const d = n - (this.prev[k] ?? 0);
      if (d !== 0) grew += `${k}+${d} `;
      this.prev[k] = n;
      total += n;
    }
    if (!r.accepted) {
      this.dropsSeen++;
      if (stats) {
        stats.dropped++;
        stats.byReason[r.dropReason!] = (stats.byReason[r.dropReason!] ?? 0) + 1;
      }
      if (grew !== `${r.dropReason}+1 `) return v("drop-counters", `dropped for ${r.dropReason} but the counters moved by: ${grew || "nothing"}`);
    } else {
      if (stats) stats.accepted++;
      if (grew !== "") return v("drop-counters", `accepted but the drop counters moved by: ${grew}`);
    }
    if (total !== this.dropsSeen) return v("drop-counters", `drop counters add up to ${total}, ${this.dropsSeen} drops seen`);

    // The engine's reading of the headers agrees with an independent one.
    if (!validIp && r.dropReason !== "ip-header") return v("ip-validation", `malformed IP header not dropped as ip-header (${r.dropReason ?? "accepted"})`);
    if (validIp && r.dropReason === "ip-header") return v("ip-validation", "valid IP header dropped as ip-header");
    // A malformed transport header is no drop by itself (the kernel marks it INVALID and goes on);
    // only a port match that has to read it drops it, as "transport-header".
    if (validIp && l4.l4 !== L4.Bad && r.dropReason === "transport-header") return v("l4-validation", "valid transport header dropped as transport-header");

    // What was written where.
    const claimed = r.accepted ? Math.max(len, r.length) : len;
    // (A packet hot-dropped for its transport header may already have had its TTL decremented, as
    // in the kernel, so only packets refused for their IP header are checked untouched.)
    if (r.dropReason === "ip-header") {
      for (let i = 0; i < len; i++) if (work[i] !== this.before[i]) return v("touched-bad-packet", `byte ${i} of a packet dropped for ${r.dropReason} changed`);
    }
    for (let i = claimed; i < len + CANARY; i++) {
      if (work[i] !== (0xa5 ^ (i & 0xff))) return v("wrote-past-end", `byte ${i} past the packet (length ${len}, result length ${r.length}) was written`);
    }

    if (r.accepted) {
      if (r.length < 20 || r.length > (exact ? len : WORK_SIZE)) return v("result-length", `result length ${r.length} for a ${len}-byte packet`);
      if (!ipHeaderValid(work, r.length)) {
        const hlen = (work[0]! & 0x0f) * 4;
        return v("ip-checksum-out", `accepted packet has a bad IP header (checksum sum ${onesSum(work, 0, hlen).toString(16)}, total ${rd16(work, 2)}, length ${r.length})`);
      }
      // Delivered locally (input, or sent by the host to itself: output) leaves by no interface.
      if ((r.path === "input" && r.outInterface !== null) || (r.path === "forward" && !r.outInterface)) {
        return v("path", `path ${r.path} with outInterface ${r.outInterface}`);
      }
      if (r.path === "forward" && work[8] !== ttlBefore - 1) return v("ttl", `forwarded with TTL ${work[8]}, arrived with ${ttlBefore}`);
      if (transportWasValid) {
        if (!l4ChecksumOk(work)) return v("l4-checksum-out", `transport checksum valid on input, invalid on output (protocol ${work[9]})`);
        if (stats) stats.transportChecked++;
      }
    }
    if (r.accepted) {
      if (stats) {
        if (rd32(work, 16) !== rd32(this.before, 16)) stats.rewritten.destination++;
        if (rd32(work, 12) !== rd32(this.before, 12)) stats.rewritten.source++;
        const state = STATE_NAMES[lastContext(engine).ctState] ?? String(lastContext(engine).ctState);
        stats.byState[state] = (stats.byState[state] ?? 0) + 1;
      }
      const nat = checkNat(engine, work, quote);
      if (nat) return v(nat.invariant, nat.message);
    }
    for (const reply of r.replies) {
      if (stats) stats.replies++;
      if (!ipHeaderValid(reply, reply.length) || rd16(reply, 2) !== reply.length) return v("reply", `malformed reply ${hex(reply)}`);
      const c = classifyL4(reply);
      if (c.l4 !== L4.Ok && c.l4 !== L4.None) return v("reply", `reply with a bad transport header/checksum ${hex(reply)}`);
    }

    // No connection left half made.
    const table = engine.conntrack.table;
    if (table.allocatedCount !== table.confirmedCount) {
      return v("ct-leak", `${table.allocatedCount} connections allocated, ${table.confirmedCount} confirmed after the packet (${r.accepted ? `accepted, ${r.path}` : `dropped: ${r.dropReason}`})`);
    }
    if (table.confirmedCount > table.maxEntries) return v("ct-count", `confirmedCount ${table.confirmedCount} above maxEntries ${table.maxEntries}`);
    return { violation: null, result: r };
  }

  /** The last packet as it was before the engine saw it. */
  input(len: number): Uint8Array {
    return this.before.slice(0, len);
  }

  /** After a throw the counters may have moved without a result: start counting afresh. */
  private resync(): void {
    let total = 0;
    for (const [k, n] of Object.entries(this.engine.drops)) {
      this.prev[k] = n;
      total += n;
    }
    this.dropsSeen = total;
  }
}

const STATE_NAMES: Record<number, string> = {
  [CtState.INVALID]: "INVALID",
  [CtState.ESTABLISHED]: "ESTABLISHED",
  [CtState.RELATED]: "RELATED",
  [CtState.NEW]: "NEW",
  [CtState.UNTRACKED]: "UNTRACKED",
};

/** Where an ICMP error's quoted IP header is, and what held on input. */
interface Quote {
  /** The outer destination was the quoted source (the error goes back to the quoted packet's sender). */
  readonly toSender: boolean;
  /** The quoted IP header was complete with a valid checksum. */
  readonly checksumOk: boolean;
}

function quotedPacket(b: Uint8Array): Quote | null {
  const hlen = (b[0]! & 0x0f) * 4;
  const type = b[hlen]!;
  if (type !== 3 && type !== 4 && type !== 5 && type !== 11 && type !== 12) return null;
  const q = hlen + 8;
  const end = rd16(b, 2);
  if (end - q < 20) return null;
  const qhlen = (b[q]! & 0x0f) * 4;
  return {
    toSender: rd32(b, 16) === rd32(b, q + 12),
    checksumOk: b[q]! >>> 4 === 4 && qhlen >= 20 && q + qhlen <= end && onesSum(b, q, qhlen) === 0xffff,
  };
}

/** The conntrack view of the engine's last packet (the context is private: tests read it anyway). */
export function lastContext(engine: Netfilter): PacketContext {
  return (engine as unknown as { ctx: PacketContext }).ctx;
}

/**
 * After NAT a tracked packet looks exactly like the inverse of its connection's other tuple (what
 * nf_nat_packet guarantees: replies and later packets are recognised); a RELATED ICMP error still
 * goes back to the sender of the packet it quotes, whose header stays valid.
 */
function checkNat(engine: Netfilter, b: Uint8Array, quote: Quote | null): Violation | null {
  const ctx = lastContext(engine);
  if (ctx.ctId < 0) return null;
  const table = engine.conntrack.table;
  if (!table.isLive(ctx.ctId)) return { invariant: "ct-dead", message: `accepted packet points to connection ${ctx.ctId}, which is not in the table` };
  const hlen = (b[0]! & 0x0f) * 4;
  if (ctx.ctState === CtState.RELATED) {
    if (!quote) return null;
    const q = hlen + 8;
    if (quote.toSender && rd32(b, 16) !== rd32(b, q + 12)) {
      return { invariant: "nat-icmp-error", message: `RELATED ICMP error to ${fmt(rd32(b, 16))} quotes a packet from ${fmt(rd32(b, q + 12))}` };
    }
    const qhlen = (b[q]! & 0x0f) * 4;
    if (quote.checksumOk && onesSum(b, q, qhlen) !== 0xffff) return { invariant: "nat-icmp-error", message: "the quoted IP header's checksum broke in translation" };
    return null;
  }
  if ((rd16(b, 6) & 0x1fff) !== 0) return null;
  const other = ctx.ctId * 2 + (ctx.ctDirection ^ 1);
  const want = { src: table.tupleDst(other), dst: table.tupleSrc(other), ports: table.tuplePorts(other) };
  const got = { src: rd32(b, 12), dst: rd32(b, 16) };
  let bad = got.src !== want.src || got.dst !== want.dst;
  let detail = `${fmt(got.src)} -> ${fmt(got.dst)}`;
  const proto = b[9]!;
  if (proto === PROTO_TCP || proto === PROTO_UDP) {
    const sport = rd16(b, hlen);
    const dport = rd16(b, hlen + 2);
    bad ||= sport !== (want.ports & 0xffff) || dport !== want.ports >>> 16;
    detail = `${fmt(got.src)}:${sport} -> ${fmt(got.dst)}:${dport}`;
  } else if (proto === PROTO_ICMP) {
    const id = rd16(b, hlen + 4);
    bad ||= id !== want.ports >>> 16;
    detail += ` id ${id}`;
  }
  if (!bad) return null;
  return {
    invariant: "nat-tuple",
    message: `packet leaves as ${detail}; its connection (${ctx.ctDirection === 0 ? "original" : "reply"} direction) expects ${fmt(want.src)} -> ${fmt(want.dst)} ports ${want.ports >>> 16}/${want.ports & 0xffff} reversed`,
  };
}

function fmt(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** The whole conntrack table: counts agree, no tuple twice, every tuple found through the hash. */
export function auditConntrack(engine: Netfilter, stats?: EngineFuzzStats): Violation | null {
  const table = engine.conntrack.table;
  let n = 0;
  const seen = new Map<string, number>();
  for (const id of table.confirmedIds()) {
    n++;
    const protocol = table.protocol(id);
    for (let dir = 0; dir < 2; dir++) {
      const node = id * 2 + dir;
      const key = `${protocol}/${table.tupleSrc(node)}/${table.tupleDst(node)}/${table.tuplePorts(node)}`;
      const other = seen.get(key);
      // A connection to itself with the same ports (or a port-less protocol) has its reply tuple
      // equal to its original tuple, as in the kernel: that is one entry, not two.
      if (other !== undefined && other >> 1 !== id) {
        return { invariant: "ct-duplicate-tuple", message: `connections ${other >> 1} and ${id} share tuple ${key} (nodes ${other}, ${node})` };
      }
      seen.set(key, node);
      const found = table.lookup(protocol, table.tupleSrc(node), table.tupleDst(node), table.tuplePorts(node), -Infinity);
      const selfTuple = found === (node ^ 1) && table.tupleSrc(node) === table.tupleSrc(node ^ 1) && table.tupleDst(node) === table.tupleDst(node ^ 1) && table.tuplePorts(node) === table.tuplePorts(node ^ 1);
      if (found !== node && !selfTuple) return { invariant: "ct-hash", message: `tuple ${key} of connection ${id} looked up as node ${found}, not ${node}` };
    }
  }
  if (n !== table.confirmedCount) return { invariant: "ct-count", message: `confirmedCount ${table.confirmedCount}, confirmedIds() yields ${n}` };
  if (n > table.maxEntries) return { invariant: "ct-count", message: `${n} confirmed connections, maxEntries ${table.maxEntries}` };
  if (stats) {
    stats.audits++;
    stats.confirmedMax = Math.max(stats.confirmedMax, n);
  }
  return null;
}

// ---- generation --------------------------------------------------------------------------------

type Kind = "random" | "fresh" | "follow" | "reply" | "icmp-error";

/** Writes the next packet into `work`; returns its length, where it enters, and what it is. */
export class PacketSource {
  private readonly ring: Remembered[] = [];
  private ringAt = 0;
  readonly r: () => number;

  constructor(private readonly rng: Rng) {
    this.r = () => rng.u32();
  }

  remember(fields: PacketFields, entry: string | null, work: Uint8Array, result: PacketResult): void {
    const item: Remembered = { fields: { ...fields }, entry, out: work.slice(0, result.length), path: result.path, outInterface: result.outInterface };
    if (this.ring.length < 128) this.ring.push(item);
    else this.ring[this.ringAt++ & 127] = item;
  }

  private address(): number {
    const rng = this.rng;
    return rng.weighted<() => number>([
      [4, () => rng.pick(LAN)],
      [3, () => rng.pick(HOST_ADDRS)],
      [4, () => rng.pick(CONTAINERS)],
      [3, () => rng.pick(INTERNET)],
      [1, () => rng.pick(SPECIAL)],
      [1, () => rng.u32()],
    ])();
  }

  private port(): number {
    return this.rng.chance(0.8) ? this.rng.pick(PORTS) : this.rng.u16();
  }

  /** Fields of a brand-new packet. */
  private freshFields(): PacketFields {
    const rng = this.rng;
    const proto = rng.weighted([[5, PROTO_TCP], [3, PROTO_UDP], [2, PROTO_ICMP], [1, rng.pick([0, 2, 47, 50, 132, 255])]] as const);
    const icmpType = rng.weighted([[6, 8], [2, 0], [1, 13], [1, rng.int(256)], [1, rng.pick([3, 11])]] as const);
    return {
      proto,
      src: this.address(),
      dst: this.address(),
      sport: proto === PROTO_ICMP ? rng.u16() & 0x0f : this.port(),
      dport: proto === PROTO_ICMP ? rng.u16() : this.port(),
      flags: proto === PROTO_TCP ? (rng.chance(0.7) ? rng.pick(TCP_FLAG_CHOICES) : rng.u8()) : proto === PROTO_ICMP ? icmpType : 0,
      code: proto === PROTO_ICMP ? (rng.chance(0.9) ? 0 : rng.u8()) : 0,
      ttl: rng.chance(0.9) ? 64 : rng.pick([0, 1, 2, 255]),
    };
  }

  /** Writes a packet; returns its length, entry (null: sent by the host), kind and fields. */
  next(work: Uint8Array): { len: number; entry: string | null; kind: Kind; fields: PacketFields } {
    const rng = this.rng;
    const r = this.r;
    const kind: Kind = this.ring.length === 0 ? rng.pick(["random", "fresh"] as const) : rng.weighted<Kind>([[5, "random"], [40, "fresh"], [20, "follow"], [25, "reply"], [10, "icmp-error"]]);
    let fields: PacketFields;
    let entry: string | null;
    let len: number;
    const ipOptions = rng.chance(0.9) ? 0 : rng.range(1, 10) * 4;
    const l4Options = rng.chance(0.7) ? 0 : rng.range(1, 10) * 4;
    const payload = rng.weighted([[5, 0], [4, rng.int(64)], [1, rng.int(1400)]] as const);

    if (kind === "random") {
      len = rng.weighted([[1, rng.int(20)], [4, rng.range(20, 80)], [1, rng.range(80, 600)]] as const);
      for (let i = 0; i < len; i++) work[i] = r() & 0xff;
      if (rng.chance(0.6) && len > 0) work[0] = rng.chance(0.8) ? 0x45 : 0x40 | rng.int(16);
      if (rng.chance(0.5) && len >= 4) wr16(work, 2, rng.chance(0.8) ? len : rng.u16());
      if (rng.chance(0.5) && len >= 20) {
        if (rng.chance(0.5)) wr16(work, 6, 0);
        fillIpChecksum(work);
      }
      fields = { proto: work[9] ?? 0, src: rd32(work, 12), dst: rd32(work, 16), sport: 0, dport: 0, flags: 0, code: 0, ttl: work[8] ?? 0 };
      entry = rng.chance(0.2) ? null : rng.pick(IFACES);
      return { len, entry, kind, fields };
    }

    if (kind === "fresh" && rng.chance(0.15)) {
      // Docker's published port: from the LAN (DNAT), from a container (hairpin: DNAT and
      // MASQUERADE), from the host itself (OUTPUT DNAT).
      fields = this.freshFields();
      fields.proto = rng.chance(0.9) ? PROTO_TCP : PROTO_UDP;
      fields.flags = rng.chance(0.8) ? 0x02 : rng.pick(TCP_FLAG_CHOICES);
      fields.dst = rng.chance(0.8) ? HOST_ADDRS[0]! : rng.pick(HOST_ADDRS);
      fields.dport = rng.chance(0.9) ? 8080 : 80;
      const from = rng.int(3);
      fields.src = from === 0 ? rng.pick(LAN) : from === 1 ? rng.pick(CONTAINERS) : HOST_ADDRS[0]!;
      entry = from === 0 ? "eth0" : from === 1 ? "docker0" : null;
      len = writePacket(work, fields, ipOptions, fields.proto === PROTO_TCP ? l4Options : 0, payload, r);
    } else if (kind === "fresh") {
      fields = this.freshFields();
      entry = rng.chance(0.2) || HOST_ADDRS.includes(fields.src) ? (rng.chance(0.8) ? null : rng.pick(IFACES)) : rng.pick(IFACES);
      len = writePacket(work, fields, ipOptions, fields.proto === PROTO_TCP ? l4Options : 0, payload, r);
    } else {
      const prev = rng.pick(this.ring);
      if (kind === "follow") {
        fields = { ...prev.fields };
        if (fields.proto === PROTO_TCP) fields.flags = rng.chance(0.8) ? rng.pick(TCP_FLAG_CHOICES) : rng.u8();
        else if (fields.proto === PROTO_ICMP && rng.chance(0.2)) fields.flags = rng.int(20);
        entry = prev.entry;
        len = writePacket(work, fields, ipOptions, fields.proto === PROTO_TCP ? l4Options : 0, payload, r);
      } else {
        // Answers come back from where the packet went: the host answers what it received.
        entry = prev.path === "input" ? null : prev.outInterface;
        const o = prev.out;
        const hlen = (o[0]! & 0x0f) * 4;
        const proto = o[9]!;
        if (kind === "reply") {
          const isIcmp = proto === PROTO_ICMP;
          fields = {
            proto,
            src: rd32(o, 16),
            dst: rd32(o, 12),
            sport: isIcmp ? rd16(o, hlen + 4) : rd16(o, hlen + 2),
            dport: isIcmp ? rd16(o, hlen + 6) : rd16(o, hlen),
            flags: proto === PROTO_TCP ? (o[hlen + 13]! & 0x02 ? (rng.chance(0.8) ? 0x12 : 0x14) : rng.pick(TCP_FLAG_CHOICES)) : isIcmp ? (o[hlen] === 8 ? 0 : o[hlen] === 13 ? 14 : rng.int(20)) : 0,
            code: 0,
            ttl: 64,
          };
          len = writePacket(work, fields, ipOptions, proto === PROTO_TCP ? l4Options : 0, payload, r);
        } else {
          const [type, code] = rng.pick(ICMP_ERRORS);
          fields = {
            proto: PROTO_ICMP,
            src: rng.chance(0.8) ? rd32(o, 16) : rng.pick(INTERNET),
            dst: rd32(o, 12),
            sport: type === 3 && code === 4 ? 0 : rng.u16() & 0xff,
            dport: type === 3 && code === 4 ? 1400 : 0,
            flags: type,
            code,
            ttl: 64,
          };
          // The quote: the packet as it left, cut short, or garbage, or a broken header.
          const quote = o.slice();
          let quoteLen = rng.weighted([[5, Math.min(quote.length, 576 - 28)], [3, Math.min(quote.length, hlen + 8)], [2, rng.int(quote.length + 1)]] as const);
          const how = rng.int(10);
          if (how === 0) for (let i = 0; i < quote.length; i++) quote[i] = r() & 0xff;
          else if (how === 1) quote[0] = 0x40 | rng.int(5); // IHL < 5
          else if (how === 2) quote[0] = rng.u8(); // any version/IHL
          else if (how === 3 && quote.length > 7) wr16(quote, 6, 0x2000 | rng.int(0x2000)); // a fragment
          else if (how === 4) quoteLen = Math.min(quoteLen, rng.int(28));
          len = writePacket(work, fields, ipOptions, 0, 0, r, quote, quoteLen);
        }
      }
    }
    return { len, entry, kind, fields };
  }

  /** Changes the packet the ways a wire lies; returns the new length. */
  mutate(work: Uint8Array, len: number): number {
    const rng = this.rng;
    const r = this.r;
    for (let n = rng.range(1, 3); n > 0; n--) {
      const hlen = (work[0]! & 0x0f) * 4;
      const l4 = hlen;
      const fixIp = rng.chance(0.8);
      switch (rng.int(16)) {
        case 0: // truncate: fewer bytes than the total length says
          len = rng.int(len + 1);
          break;
        case 1: // link-layer padding
          len = Math.min(WORK_SIZE - CANARY, len + rng.range(1, 40));
          break;
        case 2: // total length lies, either way
          wr16(work, 2, rng.chance(0.5) ? (rd16(work, 2) + rng.range(-40, 40)) & 0xffff : rng.u16());
          if (fixIp) fillIpChecksum(work);
          break;
        case 3: // bad IHL
          work[0] = 0x40 | rng.int(16);
          if (fixIp) fillIpChecksum(work);
          break;
        case 4: // version
          work[0] = (rng.int(16) << 4) | (work[0]! & 0x0f);
          if (fixIp) fillIpChecksum(work);
          break;
        case 5: // fragment bits and offsets
          wr16(work, 6, rng.weighted([[3, 0x2000], [3, 0x2000 | rng.int(0x2000)], [3, rng.int(0x2000)], [1, rng.u16()], [1, 0x8000], [1, 0x4000 | rng.int(4)]] as const));
          if (fixIp) fillIpChecksum(work);
          break;
        case 6: // wrong IP checksum
          work[10 + rng.int(2)] ^= 1 << rng.int(8);
          break;
        case 7: // wrong transport checksum
          if (work[9] === PROTO_TCP) work[l4 + 16 + rng.int(2)] ^= 1 << rng.int(8);
          else if (work[9] === PROTO_UDP) work[l4 + 6 + rng.int(2)] ^= 1 << rng.int(8);
          else if (work[9] === PROTO_ICMP) work[l4 + 2 + rng.int(2)] ^= 1 << rng.int(8);
          break;
        case 8: // TCP data offset anywhere, < 5 or beyond the packet
          if (work[9] === PROTO_TCP) {
            work[l4 + 12] = (rng.int(16) << 4) | (work[l4 + 12]! & 0x0f);
            if (rng.chance(0.5)) fillL4Checksum(work, len);
          }
          break;
        case 9: // every TCP flag combination
          if (work[9] === PROTO_TCP) {
            work[l4 + 13] = rng.u8();
            if (rng.chance(0.8)) fillL4Checksum(work, len);
          }
          break;
        case 10: // UDP length lies
          if (work[9] === PROTO_UDP) {
            wr16(work, l4 + 4, rng.chance(0.5) ? (rd16(work, l4 + 4) + rng.range(-10, 10)) & 0xffff : rng.u16());
            if (rng.chance(0.5)) fillL4Checksum(work, len);
          }
          break;
        case 11: // ICMP type/code
          if (work[9] === PROTO_ICMP) {
            work[l4] = rng.chance(0.5) ? rng.int(20) : rng.u8();
            work[l4 + 1] = rng.u8();
            if (rng.chance(0.8)) fillL4Checksum(work, len);
          }
          break;
        case 12: // flip random bytes
          for (let k = rng.range(1, 3); k > 0 && len > 0; k--) work[rng.int(len)] = r() & 0xff;
          if (rng.chance(0.5)) fillIpChecksum(work);
          break;
        case 13: // protocol swap (a TCP header read as UDP, ...)
          work[9] = rng.pick([PROTO_TCP, PROTO_UDP, PROTO_ICMP, 0, 47]);
          if (fixIp) fillIpChecksum(work);
          if (rng.chance(0.5)) fillL4Checksum(work, len);
          break;
        case 14: // TTL 0 and 1
          work[8] = rng.int(3);
          fillIpChecksum(work);
          break;
        default: // addresses: martians, broadcast, random
          wr32(work, rng.chance(0.5) ? 12 : 16, rng.chance(0.5) ? rng.pick(SPECIAL) : rng.u32());
          fillIpChecksum(work);
          if (rng.chance(0.7)) fillL4Checksum(work, len);
          break;
      }
    }
    return len;
  }
}

// ---- running -------------------------------------------------------------------------------------

export function newEngineStats(): EngineFuzzStats {
  return { packets: 0, accepted: 0, dropped: 0, byReason: {}, byKind: {}, byPath: {}, byState: {}, rewritten: { destination: 0, source: 0 }, transportChecked: 0, replies: 0, ruleSets: 0, audits: 0, confirmedMax: 0, ms: 0 };
}

let dockerText: string | null = null;

export function dockerRules(): string {
  dockerText ??= readFileSync(dockerRulesPath(), "utf8");
  return dockerText;
}

export function newEngine(rulesText: string, maxEntries: number): Netfilter {
  return engineFor(rulesFromSave(rulesText), FUZZ_HOST, { conntrack: { maxEntries } });
}

/** Sends packets until `packets` or `deadline`. Deterministic for a seed. */
export function runEngineFuzz(opts: EngineFuzzOptions): { stats: EngineFuzzStats; log: FailureLog } {
  const log = opts.log ?? new FailureLog();
  const stats = newEngineStats();
  const segment = opts.segment ?? 250_000;
  const auditEvery = opts.auditEvery ?? 8192;
  const started = Date.now();
  const rng = new Rng(deriveSeed(opts.seed, 0x5eed));
  let maxEntries = 0;
  let engine!: Netfilter;
  let checker!: EngineChecker;
  const source = new PacketSource(rng);
  const work = new Uint8Array(WORK_SIZE + CANARY);
  const corpus = opts.rotateRuleSets ? loadFuzzCorpus() : null;
  let now = 1_000_000;
  for (let i = 0; ; i++) {
    if (opts.packets !== undefined && i >= opts.packets) break;
    if (opts.deadline !== undefined && (i & 4095) === 0 && Date.now() >= opts.deadline) break;
    if (i % segment === 0) {
      // A fresh engine every segment, with a conntrack table of another size: 256 (often full,
      // early drop), 16 (full of assured connections: "table full" drops), 65536 (never full).
      if (i > 0) auditAndLog(engine, stats, log, opts.seed, `end of segment before packet ${i}`);
      maxEntries = opts.maxEntries ?? MAX_ENTRIES[(i / segment) % MAX_ENTRIES.length]!;
      engine = newEngine(dockerRules(), maxEntries);
      checker = new EngineChecker(engine);
    }
    // The clock: mostly milliseconds, sometimes seconds, now and then hours or days.
    now += rng.weighted([[900, rng.int(20)], [90, rng.int(3000)], [10, rng.int(600_000)], [1, rng.int(6 * 86_400_000)]] as const);
    if (rng.chance(0.002)) engine.collectGarbage(now, rng.chance(0.5) ? rng.range(1, 512) : undefined);
    if (corpus && i >= (opts.rotateFromPacket ?? 0) && rng.chance(1 / (opts.rotateEvery ?? 50_000))) {
      const next = rng.chance(0.3) ? -1 : rng.int(corpus.ruleSets.length);
      try {
        engine.load(next < 0 ? rulesFromSave(dockerRules()) : corpus.ruleSets[next]!.clone());
        stats.ruleSets++;
      } catch {
        // A rule set the engine cannot run (a -m mac on a TUN datapath...): keep the current one.
      }
    }

    const p = source.next(work);
    let len = p.len;
    if (p.kind !== "random" && rng.chance(0.5)) len = source.mutate(work, len);
    stats.byKind[p.kind] = (stats.byKind[p.kind] ?? 0) + 1;
    const exact = rng.chance(0.5);
    const { violation, result } = checker.check(work, len, p.entry, now, exact, stats);
    if (violation) {
      if (log.wants(violation.invariant)) log.add(engineFailure(opts.seed, i, checker.input(len), p.entry, now, exact, maxEntries, violation));
      else log.count(violation.invariant);
    } else if (result && result.accepted && lastContext(engine).ctId >= 0 && rng.chance(0.7)) {
      source.remember(p.fields, p.entry, work, result);
    }
    if ((i + 1) % auditEvery === 0) auditAndLog(engine, stats, log, opts.seed, `audit after packet ${i}`);
    if (opts.onProgress && (i & 65535) === 65535) {
      stats.ms = Date.now() - started;
      opts.onProgress(stats);
    }
  }
  if (engine) auditAndLog(engine, stats, log, opts.seed, "final audit");
  stats.ms = Date.now() - started;
  return { stats, log };
}

/** conntrack table sizes of the successive segments. */
const MAX_ENTRIES = [256, 16, 65536, 64];

function auditAndLog(engine: Netfilter, stats: EngineFuzzStats, log: FailureLog, seed: number, where: string): void {
  const a = auditConntrack(engine, stats);
  if (!a) return;
  if (log.wants(a.invariant)) log.add({ fuzzer: "engine", invariant: a.invariant, message: a.message, seed, where, reproduction: `replay: ${replayCommand("engine", seed)} (${where}: ${a.message})` });
  else log.count(a.invariant);
}

function engineFailure(seed: number, index: number, packet: Uint8Array, entry: string | null, now: number, exact: boolean, maxEntries: number, violation: Violation): FuzzFailure {
  const shrunk = shrinkPacket(packet, entry, now, exact, maxEntries, violation.invariant);
  const how = entry === null ? "engine.send(buf, len, now)" : `engine.receive(buf, len, ${JSON.stringify(entry)}, now)`;
  const lines = shrunk
    ? [
        `minimal reproduction on a fresh Docker-27 engine (maxEntries ${maxEntries}): ${how} with now=${now}${exact ? "" : `, buf larger than len`}`,
        `packet (${shrunk.packet.length} bytes): ${hex(shrunk.packet)}`,
        `violation: ${shrunk.message}`,
      ]
    : [
        `needs the engine's history (a fresh engine does not show it): ${how} with now=${now}`,
        `packet (${packet.length} bytes): ${hex(packet)}`,
        `violation: ${violation.message}`,
      ];
  lines.push(`replay: ${replayCommand("engine", seed)} (packet ${index})`);
  return { fuzzer: "engine", invariant: violation.invariant, message: violation.message.split("\n")[0]!, seed, where: `packet ${index}`, reproduction: lines.join("\n") };
}

/** On a fresh engine: the packet, cut short and with bytes zeroed, while the invariant still breaks. */
export function shrinkPacket(
  packet: Uint8Array,
  entry: string | null,
  now: number,
  exact: boolean,
  maxEntries: number,
  invariant: string,
  budget = 600,
): { packet: Uint8Array; message: string } | null {
  let tries = 0;
  const work = new Uint8Array(WORK_SIZE + CANARY);
  const test = (p: Uint8Array): Violation | null => {
    if (tries++ >= budget) return null;
    work.fill(0);
    work.set(p);
    const checker = new EngineChecker(newEngine(dockerRules(), maxEntries));
    const { violation } = checker.check(work, p.length, entry, now, exact);
    return violation && violation.invariant === invariant ? violation : null;
  };
  const first = test(packet);
  if (!first) return null;
  let cur = packet;
  let message = first.message;
  for (let cut = cur.length >> 1; cut >= 1; cut >>= 1) {
    while (cur.length - cut >= 0) {
      const v = test(cur.subarray(0, cur.length - cut));
      if (!v) break;
      cur = cur.slice(0, cur.length - cut);
      message = v.message;
    }
  }
  return { packet: cur, message };
}
