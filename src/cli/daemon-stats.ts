// `uptables daemon --stats [--json]`: the counters and memory of the daemon of this network
// namespace, asked over its control socket (see src/control/daemon-status.ts for the fields).
import { formatStatus, parseStatus } from "../control/daemon-status.ts";
import { daemonBackend, NoBackendError } from "./backend.ts";

export function daemonStatsMain(json: boolean): number {
  try {
    const reply = daemonBackend(process.env.UPTABLES_SOCKET ?? undefined).run({ op: "stats" });
    if (reply.exitCode !== 0) {
      process.stderr.write(reply.stderr);
      return reply.exitCode;
    }
    const status = parseStatus(reply.stdout);
    process.stdout.write(json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
    return 0;
  } catch (error) {
    if (!(error instanceof NoBackendError)) throw error;
    process.stderr.write(`uptables daemon: ${error.message}\n`);
    return 1;
  }
}
