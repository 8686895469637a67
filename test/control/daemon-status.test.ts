// The daemon's counters as `uptables daemon --stats` and `uptables conntrack -S` print them.
import { describe, expect, it } from "vitest";
import { formatConntrackStats, isStatsCommand } from "../../src/control/conntrack-stats.ts";
import { collectStatus, formatStatus, parseStatus } from "../../src/control/daemon-status.ts";

const conntrackStats = { found: 5, invalid: 3, insert: 2, insertFailed: 1, drop: 0, earlyDrop: 4, error: 6, searchRestart: 0 };

function status() {
  return collectStatus(
    {
      startedAt: 1000,
      hostReads: 4,
      packets: { packetsIn: 10, accepted: 7, dropped: 3, replies: 1, bytesIn: 840, engineErrors: 1 },
      engineDrops: {
        "ip-header": 0, "transport-header": 2, "martian-source": 0, "martian-destination": 0, "no-route": 0, "forwarding-disabled": 0,
        "ttl-exceeded": 0, "conntrack-table-full": 0, "nat-no-free-tuple": 0, "conntrack-insert-failed": 0, rule: 0, policy: 0,
      },
      tunStats: [{ writeErrors: 1, writeBlocked: 0 }, { writeErrors: 2, writeBlocked: 5 }],
      conntrack: { stats: conntrackStats, entries: 2, maxEntries: 65536 },
    },
    31_000,
  );
}

describe("daemon status", () => {
  it("collects the counters; drops by reason include engine errors and sum to packets dropped", () => {
    const s = status();
    expect(s.uptimeSeconds).toBe(30);
    expect(s.drops["engine-error"]).toBe(1);
    expect(Object.values(s.drops).reduce((a, b) => a + b, 0)).toBe(s.packets.dropped);
    expect(s.tunWriteErrors).toBe(3);
    expect(s.tunWriteBlocked).toBe(5);
    expect(s.memory.rssBytes).toBeGreaterThan(0);
  });

  it("prints one aligned `name value` line per counter, snake_case", () => {
    const text = formatStatus(status());
    expect(text).toMatch(/^packets_in +10$/m);
    expect(text).toMatch(/^host_reads +4$/m);
    expect(text).toMatch(/^drop_transport_header +2$/m);
    expect(text).toMatch(/^drop_engine_error +1$/m);
    expect(text).toMatch(/^conntrack_insert_failed +1$/m);
    expect(text).toMatch(/^conntrack_max_entries +65536$/m);
    expect(text).toMatch(/^memory_rss_bytes +\d+$/m);
    const columns = new Set(text.trimEnd().split("\n").map((line) => line.search(/\S+$/)));
    expect(columns.size).toBe(1);
  });

  it("parses what the socket sends and refuses anything else", () => {
    const s = status();
    expect(parseStatus(JSON.stringify(s))).toEqual(s);
    expect(() => parseStatus("{}")).toThrow(/expected form/);
    expect(() => parseStatus("[1]")).toThrow();
  });
});

describe("conntrack -S", () => {
  it("prints conntrack-tools' line", () => {
    expect(formatConntrackStats(conntrackStats)).toBe(
      "cpu=0   \tfound=5 invalid=3 insert=2 insert_failed=1 drop=0 early_drop=4 error=6 search_restart=0 clash_resolve=0 chaintoolong=0 \n",
    );
  });

  it("is chosen by -S or --stats anywhere on the line", () => {
    expect(isStatsCommand(["-S"])).toBe(true);
    expect(isStatsCommand(["--stats"])).toBe(true);
    expect(isStatsCommand(["-L", "-p", "tcp"])).toBe(false);
  });
});
