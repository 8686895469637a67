// `uptables conntrack ...`: sent to the daemon of the current network namespace.
import { daemonBackend, NoBackendError } from "../cli/backend.ts";
import { CONNTRACK_USAGE } from "./conntrack.ts";

export function conntrackMain(argv: readonly string[]): number {
  if (argv.includes("-h") || argv.includes("--help")) {
    process.stdout.write(CONNTRACK_USAGE);
    return 0;
  }
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
