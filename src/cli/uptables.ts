// `uptables`: iptables' command line, plus the subcommands iptables does not have
// (simulate, bench, daemon, conntrack, trace, lab).
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { uptablesMain } from "./main.ts";
import { simulate, SIMULATE_USAGE, SimulateUsageError } from "./simulate.ts";
import { PacketSpecError } from "./packet-spec.ts";
import { CompileError } from "../core/engine/compile.ts";
import { HostDescriptionError } from "../core/host/host-view.ts";
import { RulesetFileError } from "./ruleset-file.ts";
import { benchMain } from "./bench.ts";
import { daemonMain } from "./daemon.ts";
import { conntrackMain } from "../control/conntrack-cli.ts";
import { traceMain } from "./trace.ts";
import { labMain } from "./lab.ts";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "../..");
const DEFAULT_HOST = join(REPO, "lab/hosts/docker-host.json");

function simulateMain(argv: string[]): number {
  if (argv.includes("-h") || argv.includes("--help")) {
    process.stdout.write(SIMULATE_USAGE);
    return 0;
  }
  try {
    const { text, json, exitCode } = simulate(argv, DEFAULT_HOST);
    process.stdout.write(argv.includes("--json") ? `${JSON.stringify(json, null, 2)}\n` : text);
    return exitCode;
  } catch (error) {
    const known = [SimulateUsageError, PacketSpecError, CompileError, HostDescriptionError, RulesetFileError];
    if (known.some((k) => error instanceof k)) {
      process.stderr.write(`uptables simulate: ${(error as Error).message}\n`);
      if (error instanceof SimulateUsageError) process.stderr.write("Try `uptables simulate --help'.\n");
      return 2;
    }
    throw error;
  }
}

export async function main(argv: string[]): Promise<number> {
  switch (argv[0]) {
    case "simulate":
      return simulateMain(argv.slice(1));
    case "bench":
      return benchMain(argv.slice(1));
    case "daemon":
      return daemonMain(argv.slice(1));
    case "conntrack":
      return conntrackMain(argv.slice(1));
    case "trace":
      return traceMain(argv.slice(1));
    case "lab":
      return labMain(argv.slice(1));
    default:
      return uptablesMain(argv);
  }
}
