// `uptables bench soak`: minutes of mixed traffic through `uptables daemon` on the benchmark's lab
// (topology.ts): new TCP connections to the published port, UDP round trips to the published echo
// and datagrams to a closed port of the host, whose ICMP errors come back (no ping needed), all at once, while the daemon's RSS and heap are sampled over its control
// socket. Whether memory stays flat is read from the slope (least squares, per minute) of the
// whole run and of its second half (after the connection table has filled to its steady size).
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "../../control/client.ts";
import { CONTROL_DIR } from "../../control/protocol.ts";
import { parseStatus, type DaemonStatus } from "../../control/daemon-status.ts";
import { BenchError, BenchNamespaces, cleanUpOnSignals, REPO_ROOT } from "./namespaces.ts";
import { benchRules, buildLab, HOST_ADDRESS, PUBLISHED, SERVER_ADDRESS, SERVER_PORTS } from "./topology.ts";

export interface SoakSample {
  seconds: number;
  rssBytes: number;
  heapUsedBytes: number;
  packetsIn: number;
  dropped: number;
  conntrackEntries: number;
}

export interface SeriesSummary {
  start: number;
  end: number;
  max: number;
  /** Least-squares slope over the whole run, per minute. */
  slopePerMinute: number;
  /** The same over the second half of the run. */
  secondHalfSlopePerMinute: number;
}

export interface SoakReport {
  date: string;
  minutes: number;
  offload: boolean;
  sampleSeconds: number;
  samples: SoakSample[];
  rssBytes: SeriesSummary;
  heapUsedBytes: SeriesSummary;
  traffic: { connections: number; connectionFailures: number; roundTrips: number; roundTripsLost: number; closedPortSent: number; icmpErrorsReceived: number };
  daemon: { packetsIn: number; accepted: number; dropped: number; drops: Record<string, number> };
}

export interface SoakOptions {
  minutes: number;
  sampleSeconds: number;
  /** Run the daemon with --offload (IFF_VNET_HDR). */
  offload?: boolean;
  onSample?: (line: string) => void;
}

/** Least-squares slope of y over x. */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

export function summarise(samples: readonly SoakSample[], pick: (s: SoakSample) => number): SeriesSummary {
  const minutes = samples.map((s) => s.seconds / 60);
  const values = samples.map(pick);
  const half = Math.floor(samples.length / 2);
  return {
    start: values[0] ?? 0,
    end: values[values.length - 1] ?? 0,
    max: Math.max(...values),
    slopePerMinute: slope(minutes, values),
    secondHalfSlopePerMinute: slope(minutes.slice(half), values.slice(half)),
  };
}

const NODE_TSX = [process.execPath, "--import", "tsx"];
const PROBE = join(REPO_ROOT, "src/bench/datapath/probe.ts");
const UPTABLES = join(REPO_ROOT, "bin/uptables.mjs");

async function daemonStatus(socketPath: string): Promise<DaemonStatus> {
  const reply = await request(socketPath, { op: "stats" }, 10_000);
  if (reply.exitCode !== 0) throw new BenchError(`daemon stats: ${reply.stderr}`);
  return parseStatus(reply.stdout);
}

export async function runSoak(opts: SoakOptions): Promise<SoakReport> {
  const ns = new BenchNamespaces();
  const dir = mkdtempSync(join(tmpdir(), "upt-soak-"));
  const rulesFile = join(dir, "docker-bench.rules");
  writeFileSync(rulesFile, benchRules());
  const removeHandlers = cleanUpOnSignals("uptables bench soak", () => {
    ns.removeAll();
    rmSync(dir, { recursive: true, force: true });
  });
  try {
    const lab = buildLab(ns);
    await ns.start(lab.server, [...NODE_TSX, PROBE, "serve", "--address", SERVER_ADDRESS, "--tcp", String(SERVER_PORTS.tcp), "--udp", String(SERVER_PORTS.udp)], "ready");
    await ns.start(lab.host, [...NODE_TSX, UPTABLES, "daemon", "--ruleset", rulesFile, ...(opts.offload ? ["--offload"] : [])], "ready (pid");
    // The daemon's socket is named by its namespace's inode, which the /run/netns file carries.
    const socketPath = join(CONTROL_DIR, `${statSync(`/run/netns/${lab.host}`).ino}.sock`);
    const seconds = opts.minutes * 60;
    const traffic = [
      ns.run(lab.client, [...NODE_TSX, PROBE, "connect", "--target", PUBLISHED.connect, "--seconds", String(seconds), "--concurrency", "4"], (seconds + 60) * 1000),
      ns.run(lab.client, [...NODE_TSX, PROBE, "pingpong", "--target", PUBLISHED.echo, "--seconds", String(seconds), "--max", "1000000000"], (seconds + 60) * 1000),
      ns.run(lab.client, [...NODE_TSX, PROBE, "refused", "--target", `${HOST_ADDRESS}:9`, "--seconds", String(seconds)], (seconds + 60) * 1000),
    ];
    const samples: SoakSample[] = [];
    const started = Date.now();
    let last: DaemonStatus | null = null;
    while (Date.now() - started < seconds * 1000) {
      last = await daemonStatus(socketPath);
      const sample: SoakSample = {
        seconds: (Date.now() - started) / 1000,
        rssBytes: last.memory.rssBytes,
        heapUsedBytes: last.memory.heapUsedBytes,
        packetsIn: last.packets.in,
        dropped: last.packets.dropped,
        conntrackEntries: last.conntrack.entries,
      };
      samples.push(sample);
      opts.onSample?.(
        `${sample.seconds.toFixed(0).padStart(5)} s  RSS ${(sample.rssBytes / 1048576).toFixed(1)} MiB  heap ${(sample.heapUsedBytes / 1048576).toFixed(1)} MiB  ` +
          `packets ${sample.packetsIn}  dropped ${sample.dropped}  conntrack ${sample.conntrackEntries}`,
      );
      await new Promise((r) => setTimeout(r, opts.sampleSeconds * 1000));
    }
    const [conn, rtt, icmp] = await Promise.all(traffic);
    last = await daemonStatus(socketPath);
    const c = JSON.parse(conn!.stdout) as { connections: number; failures: number };
    const r = JSON.parse(rtt!.stdout) as { samples: number; lost: number };
    const i = JSON.parse(icmp!.stdout) as { sent: number; refused: number };
    return {
      date: new Date(started).toISOString(),
      minutes: opts.minutes,
      offload: opts.offload ?? false,
      sampleSeconds: opts.sampleSeconds,
      samples,
      rssBytes: summarise(samples, (s) => s.rssBytes),
      heapUsedBytes: summarise(samples, (s) => s.heapUsedBytes),
      traffic: {
        connections: c.connections,
        connectionFailures: c.failures,
        roundTrips: r.samples,
        roundTripsLost: r.lost,
        closedPortSent: i.sent,
        icmpErrorsReceived: i.refused,
      },
      daemon: { packetsIn: last.packets.in, accepted: last.packets.accepted, dropped: last.packets.dropped, drops: Object.fromEntries(Object.entries(last.drops).filter(([, n]) => n > 0)) },
    };
  } finally {
    await ns.removeNamespaces().catch(() => undefined);
    ns.removeAll();
    rmSync(dir, { recursive: true, force: true });
    removeHandlers();
  }
}

const mib = (n: number): string => `${(n / 1048576).toFixed(1)} MiB`;

export function formatSoak(report: SoakReport): string {
  const series = (name: string, s: SeriesSummary): string =>
    `${name.padEnd(10)} start ${mib(s.start)}, end ${mib(s.end)}, max ${mib(s.max)}, slope ${mib(s.slopePerMinute)}/min (second half ${mib(s.secondHalfSlopePerMinute)}/min)`;
  const t = report.traffic;
  const d = report.daemon;
  return [
    `uptables bench soak${report.offload ? " (daemon --offload)" : ""}: ${report.minutes} min from ${report.date}, a sample every ${report.sampleSeconds} s (${report.samples.length} samples)`,
    series("RSS", report.rssBytes),
    series("heap used", report.heapUsedBytes),
    `traffic: ${t.connections} TCP connections (${t.connectionFailures} failed), ${t.roundTrips} UDP round trips (${t.roundTripsLost} lost), ${t.icmpErrorsReceived} ICMP port unreachable for ${t.closedPortSent} datagrams to a closed port`,
    `daemon: ${d.packetsIn} packets in, ${d.accepted} accepted, ${d.dropped} dropped${Object.keys(d.drops).length ? ` (${Object.entries(d.drops).map(([k, n]) => `${k} ${n}`).join(", ")})` : ""}`,
    "",
  ].join("\n");
}
