// `uptables conntrack ...`: sent to the daemon of the current network namespace.
import { daemonBackend, NoBackendError } from "../cli/backend.ts";
import { runWatch } from "../cli/watch-command.ts";
import { CONNTRACK_USAGE } from "./conntrack.ts";

/** -E: events as they happen until Ctrl-C, then conntrack-tools' closing line. */
async function conntrackEvents(argv: readonly string[]): Promise<number> {
  let shown = 0;
  return runWatch(
    "uptables conntrack",
    { op: "conntrack", args: [...argv] },
    (record) => {
      if (record.type === "dropped") process.stderr.write(`uptables conntrack: ${String(record.count)} events dropped (the reader was too slow)\n`);
      else if (typeof record.line === "string") {
        process.stdout.write(`${record.line}\n`);
        shown++;
      }
    },
    () => process.stderr.write(`conntrack v1.4.7 (conntrack-tools): ${shown} flow events have been shown.\n`),
  );
}

export function conntrackMain(argv: readonly string[]): number | Promise<number> {
  if (argv.includes("-h") || argv.includes("--help")) {
    process.stdout.write(CONNTRACK_USAGE);
    return 0;
  }
  if (argv.includes("-E") || argv.includes("--event")) return conntrackEvents(argv);
  try {
    const reply = daemonBackend(process.env.UPTABLES_SOCKET ?? undefined).run({ op: "conntrack", args: [...argv] });
    process.stdout.write(reply.stdout);
    process.stderr.write(reply.stderr);
    return reply.exitCode;
  } catch (error) {
    if (!(error instanceof NoBackendError)) throw error;
    process.stderr.write(`uptables conntrack: ${error.message}\n`);
    return 1;
  }
}
