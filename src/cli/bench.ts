// `uptables bench fastpath`: the engine's fast path, measured in process (see docs/BENCHMARKS.md).
// `uptables bench datapath` and `soak` are in bench-datapath.ts.
import { runFastpath, type FastpathReport, type FastpathTrace } from "../bench/fastpath.ts";
import { BENCH_DATAPATH_USAGE, benchDatapathMain, benchSoakMain } from "./bench-datapath.ts";

export const BENCH_USAGE = `Usage: uptables bench fastpath [--connections N,N,...] [--rules N,N,...] [--seconds S] [--trace off|other|all] [--json]
       uptables bench datapath|soak ... (root; see uptables bench datapath --help)

  --connections   tracked connections to measure at (default 1000,100000,1000000)
  --rules         extra never-matching rules in the walked FORWARD path (default 10,100,1000,10000)
  --seconds       seconds per measurement (default 2)
  --trace         uptables trace attached: off (default), other (selecting none of the traffic),
                  all (every packet traced, records counted)
  --json          print the report as JSON
`;

function list(text: string, name: string): number[] {
  const values = text.split(",").map((v) => Number(v));
  if (values.some((v) => !Number.isInteger(v) || v < 0)) throw new Error(`--${name} wants whole numbers separated by commas`);
  return values;
}

export function progressBar(done: number, total: number, label: string): void {
  if (!process.stderr.isTTY) {
    process.stderr.write(`[${done}/${total}] ${label}\n`);
    return;
  }
  const width = 30;
  const filled = Math.round((done / total) * width);
  process.stderr.write(`\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total} ${label.padEnd(40)}`);
  if (done === total) process.stderr.write("\n");
}

function formatReport(report: FastpathReport): string {
  const lines = [
    `uptables bench fastpath (node ${report.node}, ${report.packetBytes}-byte TCP packets, Docker default rules + published port${report.trace === "off" ? "" : `, trace ${report.trace}`})`,
    "",
    "tracked conns  extra rules  established pkt/s  ns/pkt   new conn/s",
  ];
  for (const r of report.rows) {
    lines.push(
      `${String(r.trackedConnections).padStart(13)}  ${String(r.extraRules).padStart(11)}  ${Math.round(r.establishedPacketsPerSecond).toLocaleString("en-US").padStart(17)}  ${r.establishedNanoseconds.toFixed(0).padStart(6)}  ${Math.round(r.newConnectionsPerSecond).toLocaleString("en-US").padStart(11)}`,
    );
  }
  lines.push("", `conntrack memory: ${report.bytesPerConnection.toFixed(1)} bytes per tracked connection (table arrays / capacity)`);
  return `${lines.join("\n")}\n`;
}

export function benchMain(argv: string[]): number | Promise<number> {
  const [what, ...rest] = argv;
  if (what === "datapath" || what === "soak") {
    if (rest.includes("-h") || rest.includes("--help")) {
      process.stdout.write(BENCH_DATAPATH_USAGE);
      return 0;
    }
    return what === "datapath" ? benchDatapathMain(rest) : benchSoakMain(rest);
  }
  if (what !== "fastpath") {
    process.stderr.write(what === undefined || what === "-h" || what === "--help" ? BENCH_USAGE : `uptables bench: unknown benchmark "${what}"\n${BENCH_USAGE}`);
    return what === "-h" || what === "--help" ? 0 : 2;
  }
  let connections = [1000, 100000, 1000000];
  let rules = [10, 100, 1000, 10000];
  let seconds = 2;
  let json = false;
  let trace: FastpathTrace = "off";
  try {
    for (let i = 0; i < rest.length; i++) {
      const word = rest[i]!;
      if (word === "--connections") connections = list(rest[++i] ?? "", "connections");
      else if (word === "--rules") rules = list(rest[++i] ?? "", "rules");
      else if (word === "--seconds") {
        seconds = Number(rest[++i]);
        if (!(seconds > 0)) throw new Error("--seconds wants a positive number");
      } else if (word === "--trace") {
        const value = rest[++i];
        if (value !== "off" && value !== "other" && value !== "all") throw new Error("--trace wants off, other or all");
        trace = value;
      } else if (word === "--json") json = true;
      else throw new Error(`unknown option "${word}"`);
    }
  } catch (error) {
    process.stderr.write(`uptables bench: ${(error as Error).message}\n${BENCH_USAGE}`);
    return 2;
  }
  const report = runFastpath({ connections, rules, seconds, trace, onProgress: progressBar });
  process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return 0;
}
