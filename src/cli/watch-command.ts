// What `uptables trace` and `uptables conntrack -E` share: open the stream on the daemon of this
// network namespace, print what comes, end cleanly on Ctrl-C / SIGTERM / a closed stdout.
import { socketPathForCurrentNetns } from "../control/protocol.ts";
import { openWatch, type WatchHandle } from "../control/watch-client.ts";

/**
 * Streams `request`'s records to `onRecord` until it returns "stop", the user interrupts, or the
 * daemon goes; then calls `onEnd` (for closing words) and answers the exit code.
 */
export async function runWatch(
  program: string,
  request: object,
  onRecord: (record: Record<string, unknown>) => "stop" | void,
  onEnd: () => void = () => undefined,
): Promise<number> {
  const socketPath = process.env.UPTABLES_SOCKET || socketPathForCurrentNetns();
  let handle: WatchHandle | null = null;
  const stop = (): void => handle?.close();
  handle = openWatch(socketPath, request, (record) => {
    if (onRecord(record) === "stop") stop();
  });
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  for (const s of signals) process.on(s, stop);
  // A reader that went away (| head): stop quietly, as the kernel's tools do on EPIPE.
  const onStdoutError = (): void => stop();
  process.stdout.on("error", onStdoutError);
  try {
    const end = await handle.done;
    if (end.connectError !== undefined) {
      const message =
        end.connectError === "ENOENT" || end.connectError === "ECONNREFUSED"
          ? "no uptables daemon runs in this network namespace (start one with `uptables daemon`)"
          : end.connectError === "EACCES"
            ? `cannot talk to the uptables daemon (${socketPath}): Permission denied (you must be root)`
            : `cannot talk to ${socketPath}: ${end.connectError}`;
      process.stderr.write(`${program}: ${message}\n`);
      return 1;
    }
    if (end.exitCode === 0) onEnd();
    else if (end.stderr !== "") process.stderr.write(end.stderr.startsWith(program) || end.stderr.startsWith("conntrack v") ? end.stderr : `${program}: ${end.stderr}`);
    return end.exitCode;
  } finally {
    for (const s of signals) process.removeListener(s, stop);
    process.stdout.removeListener("error", onStdoutError);
  }
}
