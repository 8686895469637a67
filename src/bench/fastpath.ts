// `uptables bench fastpath`: the engine alone, in process, on Docker's default rule set with a
// published port. Established-flow packets go PREROUTING -> FORWARD -> POSTROUTING (conntrack hit,
// NAT rewrite from the stored binding, filter walk); new connections take the full traversal, the
// NAT choice and the insert. Both are measured with 1k to 1M tracked connections and with 10 to 10k
// rules in the walked chain.
import { Netfilter } from "../core/engine/netfilter.ts";
import { HostView } from "../core/host/host-view.ts";
import { RuleSet } from "../core/rules/model.ts";
import { runRestore } from "../core/iptables/run.ts";
import { buildTcp } from "../core/packet/builder.ts";
import { DOCKER_DEFAULT_RULES, DOCKER_HOST } from "./docker-rules.ts";
import { parseTraceCommand } from "../core/trace/filter.ts";
import { PacketTraceMonitor } from "../core/trace/monitor.ts";

/**
 * `uptables trace` attached during the measurement: "off" (none), "other" (a trace whose filter
 * selects none of the benchmark's packets: the cost of being attached), "all" (every packet traced,
 * its records built and handed to a sink that only counts them).
 */
export type FastpathTrace = "off" | "other" | "all";

export interface FastpathOptions {
  /** Tracked-connection counts to measure at. */
  readonly connections: readonly number[];
  /** Extra rules in the walked chain (DOCKER-USER). */
  readonly rules: readonly number[];
  /** Seconds per measurement. */
  readonly seconds: number;
  readonly trace?: FastpathTrace;
  readonly onProgress?: (done: number, total: number, label: string) => void;
}

export interface FastpathRow {
  readonly trackedConnections: number;
  readonly extraRules: number;
  readonly establishedPacketsPerSecond: number;
  readonly newConnectionsPerSecond: number;
  /** Nanoseconds per established packet. */
  readonly establishedNanoseconds: number;
}

export interface FastpathReport {
  readonly rows: readonly FastpathRow[];
  readonly bytesPerConnection: number;
  readonly node: string;
  readonly packetBytes: number;
  readonly trace: FastpathTrace;
}

function attachTrace(engine: Netfilter, trace: FastpathTrace): void {
  if (trace === "off") return;
  const monitor = new PacketTraceMonitor(0);
  let records = 0;
  const filter = parseTraceCommand(trace === "all" ? ["-p", "tcp"] : ["-p", "udp"]).filter;
  monitor.add({ filter, deliver: () => records++ });
  engine.setTraceMonitor(monitor);
}

const ACK = 0x10;
const SYN = 0x02;
const CLIENT_BASE = 0x0a000000; // 10.0.0.0/8: clients on the "internet" side

function rulesWithExtra(extra: number): RuleSet {
  // Rules that never match the benchmark's traffic, added in one restore (-n) rather than one
  // command each. They go where Docker tells users to put theirs, DOCKER-USER, which FORWARD jumps to
  // first, before the `--ctstate RELATED,ESTABLISHED -j ACCEPT` (Docker 25-27: in FORWARD; Docker 28:
  // in DOCKER-CT, after DOCKER-USER too): so established packets walk them as well, as in the kernel.
  let text = "*filter\n";
  for (let i = 0; i < extra; i++) {
    text += `-I DOCKER-USER -s 198.51.${(i >> 8) & 255}.${i & 255}/32 -p tcp -m tcp --dport 22 -j DROP\n`;
  }
  text += "COMMIT\n";
  const rules = new RuleSet();
  for (const [body, opts] of [[DOCKER_DEFAULT_RULES, {}], [text, { noflush: true }]] as const) {
    const restored = runRestore(rules, body, opts);
    if (restored.exitCode !== 0) throw new Error(restored.stderr);
  }
  return rules;
}

function clientAddress(i: number): string {
  const a = (CLIENT_BASE + Math.floor(i / 50000)) >>> 0;
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

function clientPort(i: number): number {
  return 10000 + (i % 50000);
}

/** Fills the table with `count` established connections through the published port. */
function establish(engine: Netfilter, count: number, now: number): void {
  const buf = new Uint8Array(64);
  for (let i = 0; i < count; i++) {
    const syn = buildTcp({ src: clientAddress(i), dst: "192.168.0.100", sport: clientPort(i), dport: 8080, flags: SYN, seq: 1 });
    buf.set(syn);
    engine.receive(buf, syn.length, "eth0", now);
    const synAck = buildTcp({ src: "172.17.0.2", dst: clientAddress(i), sport: 80, dport: clientPort(i), flags: SYN | ACK, seq: 1, ack: 2 });
    buf.set(synAck);
    engine.receive(buf, synAck.length, "docker0", now);
  }
}

function timeLoop(seconds: number, body: (n: number) => void, maxOperations = Infinity): { operations: number; elapsedNs: number } {
  const deadline = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  const start = process.hrtime.bigint();
  let operations = 0;
  const batch = 4096;
  for (;;) {
    body(batch);
    operations += batch;
    if (process.hrtime.bigint() >= deadline || operations + batch > maxOperations) break;
  }
  return { operations, elapsedNs: Number(process.hrtime.bigint() - start) };
}

function measureEstablished(engine: Netfilter, tracked: number, seconds: number, now: number): { pps: number; ns: number } {
  // A working set of distinct established flows, spread over the whole table.
  const flows = Math.min(tracked, 4096);
  const stride = Math.max(1, Math.floor(tracked / flows));
  const templates: Uint8Array[] = [];
  for (let f = 0; f < flows; f++) {
    const i = f * stride;
    templates.push(buildTcp({ src: clientAddress(i), dst: "192.168.0.100", sport: clientPort(i), dport: 8080, flags: ACK, seq: 2, ack: 2, payload: new Uint8Array(20) }));
  }
  const length = templates[0]!.length;
  const buf = new Uint8Array(length);
  let next = 0;
  let dropped = 0;
  const { operations, elapsedNs } = timeLoop(seconds, (n) => {
    for (let k = 0; k < n; k++) {
      // Like a datapath reading the next packet into its buffer.
      buf.set(templates[next]!);
      next = next + 1 === flows ? 0 : next + 1;
      if (!engine.receive(buf, length, "eth0", now).accepted) dropped++;
    }
  });
  if (dropped > 0) throw new Error(`fastpath: ${dropped} established packets were dropped: the benchmark is not measuring what it says`);
  return { pps: (operations / elapsedNs) * 1e9, ns: elapsedNs / operations };
}

function measureNew(engine: Netfilter, seconds: number, now: number, room: number): number {
  const template = buildTcp({ src: "172.16.0.1", dst: "192.168.0.100", sport: 1, dport: 8080, flags: SYN, seq: 1 });
  const buf = new Uint8Array(template.length);
  let i = 0;
  const limit = room;
  if (limit > 0x0fffff * 256) throw new RangeError("too many new connections for the address space");
  const { operations, elapsedNs } = timeLoop(seconds, (n) => {
    for (let k = 0; k < n; k++) {
      buf.set(template);
      // A distinct source address and port per connection (172.16.0.0/12 space).
      const id = i++;
      const addr = (0xac100000 + (id >>> 8)) >>> 0; // 172.16.0.0 + id/256
      buf[12] = addr >>> 24;
      buf[13] = (addr >>> 16) & 255;
      buf[14] = (addr >>> 8) & 255;
      buf[15] = addr & 255;
      buf[20] = ((id & 255) + 1024) >>> 8;
      buf[21] = (id & 255) + 1024;
      // Checksums: recompute both (a real packet arrives with them right).
      fixChecksums(buf);
      engine.receive(buf, buf.length, "eth0", now);
    }
  }, limit);
  if (engine.conntrack.table.stats.insertFailed > 0) throw new Error("fastpath: new connections collided: the benchmark is not measuring what it says");
  return (operations / elapsedNs) * 1e9;
}

function fixChecksums(buf: Uint8Array): void {
  buf[10] = 0;
  buf[11] = 0;
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const ipCheck = ~sum & 0xffff;
  buf[10] = ipCheck >>> 8;
  buf[11] = ipCheck & 255;
  const tcpLength = buf.length - 20;
  buf[36] = 0;
  buf[37] = 0;
  sum = 6 + tcpLength;
  for (let i = 12; i < 20; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  for (let i = 20; i < buf.length; i += 2) sum += (buf[i]! << 8) | (buf[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const tcpCheck = ~sum & 0xffff;
  buf[36] = tcpCheck >>> 8;
  buf[37] = tcpCheck & 255;
}

export function runFastpath(opts: FastpathOptions): FastpathReport {
  const host = HostView.fromDescription(DOCKER_HOST);
  const rows: FastpathRow[] = [];
  const total = opts.connections.length * opts.rules.length;
  let done = 0;
  let bytesPerConnection = 0;
  for (const extra of opts.rules) {
    for (const tracked of opts.connections) {
      opts.onProgress?.(done, total, `${tracked} connections, ${extra} extra rules`);
      const newRoom = 200_000;
      const engine = new Netfilter(rulesWithExtra(0), {
        host,
        conntrack: { maxEntries: tracked + newRoom + 16, verifyChecksums: true },
      });
      const now = 1000;
      // Connections are set up under Docker's own rules, then the extra rules are loaded: the engine
      // keeps its connections across a load, as the kernel does, and setting up 1M connections
      // through 10k rules would take the benchmark minutes without measuring anything more.
      establish(engine, tracked, now);
      engine.load(rulesWithExtra(extra));
      attachTrace(engine, opts.trace ?? "off");
      if (engine.conntrack.table.confirmedCount !== tracked) {
        throw new Error(`fastpath: expected ${tracked} tracked connections, have ${engine.conntrack.table.confirmedCount}`);
      }
      bytesPerConnection = engine.conntrack.table.memoryBytes / engine.conntrack.table.maxEntries;
      const established = measureEstablished(engine, tracked, opts.seconds, now);
      const newPerSecond = measureNew(engine, opts.seconds / 2, now, newRoom);
      rows.push({
        trackedConnections: tracked,
        extraRules: extra,
        establishedPacketsPerSecond: established.pps,
        establishedNanoseconds: established.ns,
        newConnectionsPerSecond: newPerSecond,
      });
      done++;
    }
  }
  opts.onProgress?.(total, total, "done");
  return { rows, bytesPerConnection, node: process.version, packetBytes: 60, trace: opts.trace ?? "off" };
}
