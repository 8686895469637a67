// `uptables trace`: follows live packets through the daemon of this network namespace and prints
// each one's walk as `xtables-monitor --trace` does (src/core/trace/format.ts), or JSON with --json.
import { formatTraceRecord } from "../core/trace/format.ts";
import { parseTraceCommand, TRACE_USAGE, TraceUsageError, type TraceCommand } from "../core/trace/filter.ts";
import type { TraceRecord } from "../core/trace/record.ts";
import { runWatch } from "./watch-command.ts";

export async function traceMain(argv: readonly string[]): Promise<number> {
  let command: TraceCommand;
  try {
    command = parseTraceCommand(argv);
  } catch (error) {
    if (!(error instanceof TraceUsageError)) throw error;
    process.stderr.write(`uptables trace: ${error.message}\nTry \`uptables trace --help' for more information.\n`);
    return 2;
  }
  if (command.help) {
    process.stdout.write(TRACE_USAGE);
    return 0;
  }
  let packets = 0;
  return runWatch("uptables trace", { op: "trace", args: [...argv] }, (value) => {
    const record = value as unknown as TraceRecord;
    if (record.type === "dropped") {
      process.stderr.write(`${formatTraceRecord(record)}\n`);
      return;
    }
    process.stdout.write(command.json ? `${JSON.stringify(record)}\n` : `${formatTraceRecord(record)}\n`);
    // A packet's trace ends with its verdict.
    if (record.type === "verdict" && command.count !== null && ++packets >= command.count) return "stop";
  });
}
