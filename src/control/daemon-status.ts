// The daemon's own counters and memory, as `uptables daemon --stats` prints them (one
// `name value` pair a line, as nstat does) or as JSON (`--json`, also what the control socket's
// "stats" request returns). Every packet read from a TUN ends up in exactly one of accepted or a
// drop reason, so packets_in = packets_accepted + packets_dropped (the drop_* lines sum to it).
import type { DropCounters } from "../core/engine/netfilter.ts";
import type { ConntrackStats } from "../core/conntrack/table.ts";

export interface DaemonStatus {
  pid: number;
  uptimeSeconds: number;
  /** Completed reads of the host (addresses, routes, sysctls); the engine's view is the last one's. */
  hostReads: number;
  packets: {
    in: number;
    accepted: number;
    dropped: number;
    /** REJECT's answers written back (not counted in `in`). */
    rejectReplies: number;
    bytesIn: number;
  };
  /** Drops by reason: the engine's reasons, plus `engine-error` (an exception in the engine). */
  drops: Record<string, number>;
  /** Accepted packets the kernel refused to take back from a TUN (counted, not retried). */
  tunWriteErrors: number;
  /** Accepted packets lost because a TUN's queue was full. */
  tunWriteBlocked: number;
  conntrack: ConntrackStats & { entries: number; maxEntries: number };
  memory: { rssBytes: number; heapUsedBytes: number; heapTotalBytes: number; externalBytes: number; arrayBuffersBytes: number };
}

export interface StatusSources {
  startedAt: number;
  hostReads: number;
  packets: { packetsIn: number; accepted: number; dropped: number; replies: number; bytesIn: number; engineErrors: number };
  engineDrops: DropCounters;
  tunStats: readonly { writeErrors: number; writeBlocked: number }[];
  conntrack: { stats: ConntrackStats; entries: number; maxEntries: number };
}

/** A snapshot of the counters and of the process's memory. */
export function collectStatus(s: StatusSources, now = Date.now()): DaemonStatus {
  const memory = process.memoryUsage();
  return {
    pid: process.pid,
    uptimeSeconds: Math.round((now - s.startedAt) / 1000),
    hostReads: s.hostReads,
    packets: { in: s.packets.packetsIn, accepted: s.packets.accepted, dropped: s.packets.dropped, rejectReplies: s.packets.replies, bytesIn: s.packets.bytesIn },
    drops: { ...s.engineDrops, "engine-error": s.packets.engineErrors },
    tunWriteErrors: s.tunStats.reduce((sum, t) => sum + t.writeErrors, 0),
    tunWriteBlocked: s.tunStats.reduce((sum, t) => sum + t.writeBlocked, 0),
    conntrack: { ...s.conntrack.stats, entries: s.conntrack.entries, maxEntries: s.conntrack.maxEntries },
    memory: {
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      heapTotalBytes: memory.heapTotal,
      externalBytes: memory.external,
      arrayBuffersBytes: memory.arrayBuffers,
    },
  };
}

const snake = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`).replace(/-/g, "_");

/** The nstat-like listing: `name value`, names aligned. */
export function formatStatus(status: DaemonStatus): string {
  const rows: [string, number][] = [
    ["pid", status.pid],
    ["uptime_seconds", status.uptimeSeconds],
    ["host_reads", status.hostReads],
    ["packets_in", status.packets.in],
    ["packets_accepted", status.packets.accepted],
    ["packets_dropped", status.packets.dropped],
    ...Object.entries(status.drops).map(([reason, n]): [string, number] => [`drop_${snake(reason)}`, n]),
    ["reject_replies", status.packets.rejectReplies],
    ["bytes_in", status.packets.bytesIn],
    ["tun_write_errors", status.tunWriteErrors],
    ["tun_write_blocked", status.tunWriteBlocked],
    ...Object.entries(status.conntrack).map(([name, n]): [string, number] => [`conntrack_${snake(name)}`, n]),
    ...Object.entries(status.memory).map(([name, n]): [string, number] => [`memory_${snake(name)}`, n]),
  ];
  const width = Math.max(...rows.map(([name]) => name.length)) + 2;
  return rows.map(([name, n]) => `${name.padEnd(width)}${n}\n`).join("");
}

/** Checks the shape of a status that came over the control socket. */
export function parseStatus(text: string): DaemonStatus {
  const value = JSON.parse(text) as DaemonStatus;
  if (typeof value !== "object" || value === null || typeof value.packets?.in !== "number" || typeof value.memory?.rssBytes !== "number") {
    throw new Error("the daemon's status is not in the expected form");
  }
  return value;
}
