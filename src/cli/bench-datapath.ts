// `uptables bench datapath` (kernel vs C reflector vs uptables, side by side) and `uptables bench
// soak` (minutes of mixed traffic through the daemon, its memory sampled). Both need root and
// build their own `upt-bench-*` namespaces; see src/bench/datapath/.
import { DATAPATH_MODES, ratio, runDatapathBench, type DatapathMode, type DatapathReport, type ModeResult } from "../bench/datapath/run.ts";
import { formatSoak, runSoak } from "../bench/datapath/soak.ts";
import { progressBar } from "./bench.ts";

export const BENCH_DATAPATH_USAGE = `Usage: uptables bench datapath [--seconds N] [--only MODE,...] [--json]
       uptables bench soak [--minutes N] [--sample-seconds N] [--offload] [--json]

datapath: the same traffic through the kernel's own netfilter, the C reflector (the TUN path alone,
no NAT: traffic goes to the server directly) and uptables daemon, then the reflector and the daemon
again with IFF_VNET_HDR offloads (TCP as 64 KB super-packets), each on a fresh lab (client ->
host with Docker's default rules and published ports -> server behind docker0): TCP throughput
(iperf3), 64-byte UDP packets received per second (iperf3 -u), new TCP connections per second to
the published port, UDP round-trip time p50/p99.
  --seconds N   seconds per test (default 5)
  --only LIST   the modes to run, of kernel, reflector, uptables, reflector-offload,
                uptables-offload (default all)
  --json        the report as JSON

soak: new TCP connections, UDP round trips and pings through uptables daemon for N minutes
(default 5), the daemon's RSS and heap sampled every few seconds (default 5); start, end, max and
the slope per minute. --offload runs the daemon with --offload.

Both need root; they make and always remove namespaces named upt-bench-<pid>-*.
`;

function needRoot(): string | null {
  if (process.platform !== "linux") return `needs Linux (this is ${process.platform})`;
  if (typeof process.getuid === "function" && process.getuid() !== 0) return "needs root (it builds network namespaces)";
  return null;
}

function positive(text: string | undefined, name: string): number {
  const n = Number(text);
  if (!(n > 0)) throw new Error(`${name} wants a positive number`);
  return n;
}

const fmtInt = (n: number): string => Math.round(n).toLocaleString("en-US");

const ROWS: { label: string; value: (r: ModeResult) => number; show: (n: number) => string }[] = [
  { label: "TCP throughput", value: (r) => r.tcpBitsPerSecond, show: (n) => `${(n / 1e9).toFixed(2)} Gbit/s` },
  { label: "UDP 64 B received", value: (r) => r.udpPacketsPerSecondReceived, show: (n) => `${fmtInt(n)} pps` },
  { label: "UDP 64 B sent", value: (r) => r.udpPacketsPerSecondSent, show: (n) => `${fmtInt(n)} pps` },
  { label: "UDP loss", value: (r) => r.udpLossPercent, show: (n) => `${n.toFixed(1)} %` },
  { label: "new TCP connections", value: (r) => r.connectionsPerSecond, show: (n) => `${fmtInt(n)} /s` },
  { label: "round trip p50", value: (r) => r.rttP50Us, show: (n) => `${fmtInt(n)} µs` },
  { label: "round trip p99", value: (r) => r.rttP99Us, show: (n) => `${fmtInt(n)} µs` },
];

const pct = (r: number | null): string => (r === null ? "-" : `${(r * 100).toFixed(0)}%`);

/** The ratios printed, each where both of its modes ran: uptables against the kernel and against the TUN alone. */
const RATIOS: readonly [DatapathMode, DatapathMode][] = [
  ["uptables", "kernel"],
  ["uptables", "reflector"],
  ["uptables-offload", "kernel"],
  ["uptables-offload", "reflector-offload"],
];

export function formatDatapathReport(report: DatapathReport): string {
  const by = new Map(report.results.map((r) => [r.mode, r]));
  const ratios = RATIOS.filter(([a, b]) => by.has(a) && by.has(b)).map(([a, b]) => ({ a: by.get(a)!, b: by.get(b)!, title: `${a}/${b}` }));
  const width = (title: string): number => Math.max(15, title.length + 2);
  const lines = [
    `uptables bench datapath: ${report.secondsPerTest} s per test, ${report.cores} cores, node ${report.node}, load average before ${report.loadAverageBefore.join(" ")}`,
    "",
  ];
  lines.push(["".padEnd(22), ...report.results.map((r) => r.mode.padStart(width(r.mode))), ...ratios.map((q) => q.title.padStart(width(q.title)))].join(""));
  for (const row of ROWS) {
    const cells = [row.label.padEnd(22), ...report.results.map((r) => row.show(row.value(r)).padStart(width(r.mode)))];
    for (const q of ratios) cells.push(pct(ratio(row.value(q.a), row.value(q.b))).padStart(width(q.title)));
    lines.push(cells.join(""));
  }
  const kernel = by.get("kernel");
  if (kernel) {
    const signed = (n: number): string => `${n >= 0 ? "+" : "-"}${fmtInt(Math.abs(n))} µs`;
    const added = report.results.filter((r) => r.mode !== "kernel").map((r) => `${r.mode} ${signed(r.rttP50Us - kernel.rttP50Us)} (p99 ${signed(r.rttP99Us - kernel.rttP99Us)})`);
    if (added.length > 0) lines.push("", `added round trip vs kernel: ${added.join(", ")}`);
  }
  for (const r of report.results) {
    if (r.daemon) {
      lines.push(`${r.mode} daemon: ${fmtInt(r.daemon.packetsIn)} packets in, ${fmtInt(r.daemon.accepted)} accepted, ${fmtInt(r.daemon.dropped)} dropped, RSS ${(r.daemon.rssBytes / 1048576).toFixed(0)} MiB`);
    }
  }
  for (const note of report.notes) lines.push(`note: ${note}`);
  return `${lines.join("\n")}\n`;
}

export async function benchDatapathMain(argv: string[]): Promise<number> {
  let seconds = 5;
  let modes: DatapathMode[] = [...DATAPATH_MODES];
  let json = false;
  try {
    for (let i = 0; i < argv.length; i++) {
      const word = argv[i]!;
      if (word === "--seconds") seconds = positive(argv[++i], "--seconds");
      else if (word === "--only") {
        const wanted = (argv[++i] ?? "").split(",").filter((m) => m !== "");
        const unknown = wanted.filter((m) => !DATAPATH_MODES.includes(m as DatapathMode));
        if (wanted.length === 0 || unknown.length > 0) throw new Error(`--only wants some of ${DATAPATH_MODES.join(",")}${unknown.length ? ` (not ${unknown.join(",")})` : ""}`);
        modes = DATAPATH_MODES.filter((m) => wanted.includes(m));
      } else if (word === "--json") json = true;
      else throw new Error(`unknown option "${word}"`);
    }
  } catch (error) {
    process.stderr.write(`uptables bench datapath: ${(error as Error).message}\n${BENCH_DATAPATH_USAGE}`);
    return 2;
  }
  const problem = needRoot();
  if (problem !== null) {
    process.stderr.write(`uptables bench datapath: ${problem}\n`);
    return 1;
  }
  try {
    const report = await runDatapathBench({ seconds, modes, onProgress: progressBar });
    process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : formatDatapathReport(report));
    return 0;
  } catch (error) {
    process.stderr.write(`uptables bench datapath: ${(error as Error).message}\n`);
    return 1;
  }
}

export async function benchSoakMain(argv: string[]): Promise<number> {
  let minutes = 5;
  let sampleSeconds = 5;
  let json = false;
  let offload = false;
  try {
    for (let i = 0; i < argv.length; i++) {
      const word = argv[i]!;
      if (word === "--minutes") minutes = positive(argv[++i], "--minutes");
      else if (word === "--sample-seconds") sampleSeconds = positive(argv[++i], "--sample-seconds");
      else if (word === "--offload") offload = true;
      else if (word === "--json") json = true;
      else throw new Error(`unknown option "${word}"`);
    }
  } catch (error) {
    process.stderr.write(`uptables bench soak: ${(error as Error).message}\n${BENCH_DATAPATH_USAGE}`);
    return 2;
  }
  const problem = needRoot();
  if (problem !== null) {
    process.stderr.write(`uptables bench soak: ${problem}\n`);
    return 1;
  }
  try {
    const report = await runSoak({ minutes, sampleSeconds, offload, onSample: json ? undefined : (line) => process.stderr.write(`${line}\n`) });
    process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : formatSoak(report));
    return 0;
  } catch (error) {
    process.stderr.write(`uptables bench soak: ${(error as Error).message}\n`);
    return 1;
  }
}
