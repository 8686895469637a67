// The CLI's side of a stream (watch.ts): send the request, check the first reply, then hand each
// record to the caller until the caller closes the stream (Ctrl-C, -c reached) or the daemon goes.
import { createConnection, type Socket } from "node:net";
import { parseReply, type ControlReply } from "./protocol.ts";

export interface WatchEnd {
  exitCode: number;
  /** What to tell the user on stderr ("" when nothing). */
  stderr: string;
  /** The socket could not be reached: "ENOENT", "ECONNREFUSED", "EACCES"... (stderr is then empty). */
  connectError?: string;
}

export interface WatchHandle {
  /** Settles when the stream is over. */
  readonly done: Promise<WatchEnd>;
  /** Ends the stream from this side (the daemon then forgets it). */
  close(): void;
}

/** Opens a stream on the daemon's socket; `onRecord` gets each record after the daemon accepted it. */
export function openWatch(socketPath: string, request: object, onRecord: (record: Record<string, unknown>) => void): WatchHandle {
  const socket: Socket = createConnection(socketPath);
  let accepted = false;
  let closedByUs = false;
  let buffered = "";
  let settle: (end: WatchEnd) => void = () => undefined;
  const done = new Promise<WatchEnd>((resolve) => {
    let settled = false;
    settle = (end) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(end);
    };
  });
  socket.setEncoding("utf8");
  socket.once("connect", () => socket.write(`${JSON.stringify(request)}\n`));
  socket.on("data", (chunk: string) => {
    buffered += chunk;
    for (let nl = buffered.indexOf("\n"); nl !== -1; nl = buffered.indexOf("\n")) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (!accepted) {
        let reply: ControlReply;
        try {
          reply = parseReply(line);
        } catch (error) {
          settle({ exitCode: 1, stderr: `${(error as Error).message}\n` });
          return;
        }
        if (reply.exitCode !== 0) {
          settle({ exitCode: reply.exitCode, stderr: reply.stderr });
          return;
        }
        accepted = true;
        continue;
      }
      let record: unknown;
      try {
        record = JSON.parse(line);
      } catch {
        settle({ exitCode: 1, stderr: "the daemon sent a record that is not JSON\n" });
        return;
      }
      if (typeof record === "object" && record !== null) onRecord(record as Record<string, unknown>);
      if (closedByUs) return;
    }
  });
  socket.on("error", (error: NodeJS.ErrnoException) => {
    if (!accepted) settle({ exitCode: 1, stderr: "", connectError: error.code ?? error.message });
  });
  socket.on("close", () => {
    if (closedByUs) settle({ exitCode: 0, stderr: "" });
    else settle({ exitCode: 1, stderr: accepted ? "the uptables daemon ended the stream (it stopped)\n" : "the uptables daemon closed the connection without an answer\n" });
  });
  return {
    done,
    close() {
      closedByUs = true;
      socket.end();
      settle({ exitCode: 0, stderr: "" });
    },
  };
}
