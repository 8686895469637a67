// `uptables bench datapath`: the same traffic through three datapaths, each on a fresh copy of the
// lab (topology.ts), one after the other:
//
//   kernel     the kernel's own netfilter: the rules loaded with iptables-restore in the host
//   reflector  upt-reflector (C) on a TUN with the datapath recipe's policy routing: what the TUN
//              path itself costs. It cannot NAT, so the client talks to the server's own address.
//   uptables   `uptables daemon` with the same rules: the TUNs plus the TypeScript engine
//   reflector-offload, uptables-offload   the same with IFF_VNET_HDR and TSO/checksum offload
//              (TCP through the TUN as 64 KB super-packets; upt-reflector --vnet-hdr, daemon --offload)
//
// Per mode: TCP throughput (iperf3), small UDP packets received per second (iperf3 -u -l 64), new
// TCP connections per second to the published port and UDP round-trip times (probe.ts).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { REFLECTOR_PATH } from "../../io/tun.ts";
import { BenchError, BenchNamespaces, cleanUpOnSignals, REPO_ROOT } from "./namespaces.ts";
import { benchRules, buildLab, DIRECT, divertIntoReflector, PUBLISHED, REFLECTOR_TUN, SERVER_ADDRESS, SERVER_PORTS, type Lab, type Targets } from "./topology.ts";

export type DatapathMode = "kernel" | "reflector" | "uptables" | "reflector-offload" | "uptables-offload";
export const DATAPATH_MODES: readonly DatapathMode[] = ["kernel", "reflector", "uptables", "reflector-offload", "uptables-offload"];

const isReflector = (mode: DatapathMode): boolean => mode === "reflector" || mode === "reflector-offload";
const isUptables = (mode: DatapathMode): boolean => mode === "uptables" || mode === "uptables-offload";

export interface ModeResult {
  mode: DatapathMode;
  /** What the client sent to (the published ports, or the server directly for the reflector). */
  targets: string;
  tcpBitsPerSecond: number;
  udpPacketsPerSecondReceived: number;
  udpPacketsPerSecondSent: number;
  udpLossPercent: number;
  connectionsPerSecond: number;
  connectionFailures: number;
  rttP50Us: number;
  rttP99Us: number;
  rttSamples: number;
  rttLost: number;
  /** uptables only: the daemon's counters at the end (daemon --stats --json). */
  daemon?: { packetsIn: number; accepted: number; dropped: number; rssBytes: number };
}

export interface DatapathReport {
  date: string;
  node: string;
  cores: number;
  loadAverageBefore: number[];
  secondsPerTest: number;
  results: ModeResult[];
  notes: string[];
}

export interface DatapathOptions {
  seconds: number;
  modes: readonly DatapathMode[];
  onProgress?: (done: number, total: number, label: string) => void;
}

const NODE_TSX = [process.execPath, "--import", "tsx"];
const PROBE = join(REPO_ROOT, "src/bench/datapath/probe.ts");
const UPTABLES = join(REPO_ROOT, "bin/uptables.mjs");
const TESTS_PER_MODE = 4;

function parseJson<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new BenchError(`${what}: output is not JSON:\n${text.slice(0, 2000)}`);
  }
}

interface IperfEnd {
  end: { sum_received?: { bits_per_second: number }; sum?: { packets: number; lost_packets: number; seconds: number; lost_percent: number } };
  error?: string;
}

async function iperf(ns: BenchNamespaces, lab: Lab, t: Targets, seconds: number, udp: boolean): Promise<IperfEnd> {
  const argv = ["iperf3", "-c", t.iperf.host, "-p", String(t.iperf.port), "-t", String(seconds), "-J"];
  if (udp) argv.push("-u", "-b", "0", "-l", "64");
  const r = await ns.run(lab.client, argv, (seconds + 20) * 1000);
  if (r.stdout.trim() === "") throw new BenchError(`iperf3${udp ? " -u" : ""} said nothing (exit ${r.code}): ${r.stderr}`);
  const json = parseJson<IperfEnd>(r.stdout, `iperf3${udp ? " -u" : ""}`);
  if (r.code !== 0 || json.error !== undefined) throw new BenchError(`iperf3${udp ? " -u" : ""} failed: ${json.error ?? r.stderr}`);
  return json;
}

async function probe<T>(ns: BenchNamespaces, lab: Lab, args: string[], seconds: number): Promise<T> {
  const r = await ns.run(lab.client, [...NODE_TSX, PROBE, ...args], (seconds + 30) * 1000);
  if (r.code !== 0) throw new BenchError(`probe ${args[0]} failed (${r.code}): ${r.stderr}`);
  return parseJson<T>(r.stdout, `probe ${args[0]}`);
}

/** Puts the mode's datapath in place in the host namespace; returns the daemon or reflector if any. */
async function startDatapath(ns: BenchNamespaces, lab: Lab, mode: DatapathMode, rulesFile: string): Promise<void> {
  switch (mode) {
    case "kernel":
      ns.exec(lab.host, ["iptables-restore", rulesFile]);
      return;
    case "reflector":
    case "reflector-offload":
      await ns.start(lab.host, [REFLECTOR_PATH, ...(mode === "reflector-offload" ? ["--vnet-hdr"] : []), REFLECTOR_TUN], `ready ${REFLECTOR_TUN}`);
      divertIntoReflector(ns, lab.host);
      return;
    case "uptables":
    case "uptables-offload":
      await ns.start(lab.host, [...NODE_TSX, UPTABLES, "daemon", "--ruleset", rulesFile, ...(mode === "uptables-offload" ? ["--offload"] : [])], "ready (pid");
      return;
  }
}

async function measureMode(ns: BenchNamespaces, mode: DatapathMode, opts: DatapathOptions, rulesFile: string, step: (label: string) => void): Promise<ModeResult> {
  const lab = buildLab(ns);
  const { seconds } = opts;
  await ns.start(lab.server, ["iperf3", "-s", "--forceflush", "-p", String(SERVER_PORTS.iperf)], "Server listening");
  await ns.start(lab.server, [...NODE_TSX, PROBE, "serve", "--address", SERVER_ADDRESS, "--tcp", String(SERVER_PORTS.tcp), "--udp", String(SERVER_PORTS.udp)], "ready");
  await startDatapath(ns, lab, mode, rulesFile);
  const t = isReflector(mode) ? DIRECT : PUBLISHED;

  step(`${mode}: TCP throughput`);
  const tcp = await iperf(ns, lab, t, seconds, false);
  step(`${mode}: small UDP packets`);
  const udp = (await iperf(ns, lab, t, seconds, true)).end.sum!;
  step(`${mode}: new TCP connections`);
  const conn = await probe<{ connections: number; failures: number; seconds: number }>(ns, lab, ["connect", "--target", t.connect, "--seconds", String(seconds)], seconds);
  step(`${mode}: UDP round trips`);
  const rtt = await probe<{ samples: number; lost: number; p50Us: number; p99Us: number }>(ns, lab, ["pingpong", "--target", t.echo, "--seconds", String(seconds)], seconds);

  const received = udp.packets - udp.lost_packets;
  const result: ModeResult = {
    mode,
    targets: isReflector(mode) ? `${SERVER_ADDRESS} directly (no NAT)` : "published ports on 192.168.0.100 (DNAT)",
    tcpBitsPerSecond: tcp.end.sum_received?.bits_per_second ?? 0,
    udpPacketsPerSecondReceived: received / udp.seconds,
    udpPacketsPerSecondSent: udp.packets / udp.seconds,
    udpLossPercent: udp.packets > 0 ? (100 * udp.lost_packets) / udp.packets : 0,
    connectionsPerSecond: conn.connections / conn.seconds,
    connectionFailures: conn.failures,
    rttP50Us: rtt.p50Us,
    rttP99Us: rtt.p99Us,
    rttSamples: rtt.samples,
    rttLost: rtt.lost,
  };
  if (isUptables(mode)) {
    const stats = parseJson<{ packets: { in: number; accepted: number; dropped: number }; memory: { rssBytes: number } }>(
      ns.exec(lab.host, [...NODE_TSX, UPTABLES, "daemon", "--stats", "--json"]),
      "uptables daemon --stats",
    );
    result.daemon = { packetsIn: stats.packets.in, accepted: stats.packets.accepted, dropped: stats.packets.dropped, rssBytes: stats.memory.rssBytes };
  }
  return result;
}

/** Runs the modes one after the other; namespaces are removed after each, on failure and on Ctrl-C. */
export async function runDatapathBench(opts: DatapathOptions): Promise<DatapathReport> {
  const ns = new BenchNamespaces();
  const dir = mkdtempSync(join(tmpdir(), "upt-bench-"));
  const rulesFile = join(dir, "docker-bench.rules");
  writeFileSync(rulesFile, benchRules());
  const removeHandlers = cleanUpOnSignals("uptables bench datapath", () => {
    ns.removeAll();
    rmSync(dir, { recursive: true, force: true });
  });
  const report: DatapathReport = {
    date: new Date().toISOString(),
    node: process.version,
    cores: cpus().length,
    loadAverageBefore: loadavg().map((l) => Math.round(l * 100) / 100),
    secondsPerTest: opts.seconds,
    results: [],
    notes: [],
  };
  if (opts.modes.some(isReflector)) {
    report.notes.push("reflector: the C reflector cannot NAT, so its traffic goes to 172.17.0.2 directly (no DNAT, no rules)");
  }
  const total = opts.modes.length * TESTS_PER_MODE;
  let done = 0;
  try {
    for (const mode of opts.modes) {
      report.results.push(
        await measureMode(ns, mode, opts, rulesFile, (label) => {
          opts.onProgress?.(done, total, label);
          done++;
        }),
      );
      await ns.removeNamespaces();
    }
    opts.onProgress?.(total, total, "done");
    return report;
  } finally {
    const problems = ns.removeAll();
    rmSync(dir, { recursive: true, force: true });
    removeHandlers();
    if (problems.length > 0) process.stderr.write(`uptables bench: could not remove: ${problems.join("; ")}\n`);
  }
}

/** a / b, or null when b is 0 (no ratio). */
export function ratio(a: number, b: number): number | null {
  return b === 0 ? null : a / b;
}
