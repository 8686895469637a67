// Runs `uptables daemon` directly (node --import tsx src/cli/daemon-entry.ts ARGS), for tests and
// until bin/uptables.mjs dispatches the `daemon` subcommand.
import { daemonMain } from "./daemon.ts";

process.exit(await daemonMain(process.argv.slice(2)));
