// The CLI's side of the control socket. The commands are synchronous (as iptables is), so
// requestSync runs the socket I/O in a worker thread and blocks on Atomics.wait until it answers.
import { createConnection } from "node:net";
import { MessageChannel, receiveMessageOnPort, Worker } from "node:worker_threads";
import { parseReply, type ControlReply, type ControlRequest } from "./protocol.ts";

export class ControlClientError extends Error {}

export const DEFAULT_TIMEOUT_MS = 30_000;

/** One request, one reply, over a fresh connection. */
export function request(socketPath: string, req: ControlRequest | string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<ControlReply> {
  const line = typeof req === "string" ? req : JSON.stringify(req);
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (error: Error | null, reply?: ControlReply): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(reply!);
    };
    const timer = setTimeout(() => finish(new ControlClientError(`no answer from ${socketPath} within ${timeoutMs} ms`)), timeoutMs);
    socket.once("connect", () => socket.write(`${line}\n`));
    socket.on("data", (data: Buffer) => {
      chunks.push(data);
      const nl = data.indexOf(10);
      if (nl === -1) return;
      const text = Buffer.concat(chunks).toString("utf8");
      try {
        finish(null, parseReply(text.slice(0, text.indexOf("\n"))));
      } catch (error) {
        finish(error as Error);
      }
    });
    socket.once("error", (error: NodeJS.ErrnoException) => finish(new ControlClientError(`cannot talk to ${socketPath}: ${error.code ?? error.message}`)));
    socket.once("close", () => finish(new ControlClientError(`${socketPath} closed the connection without an answer`)));
  });
}

// Plain CommonJS for the worker (no TypeScript loader there): connect, send, read one line.
const WORKER_SOURCE = `
const { workerData } = require("node:worker_threads");
const net = require("node:net");
const { socketPath, line, port, flag } = workerData;
const signal = new Int32Array(flag);
let done = false;
function finish(message) {
  if (done) return;
  done = true;
  try { socket.destroy(); } catch {}
  port.postMessage(message);
  port.close();
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);
}
const socket = net.createConnection(socketPath);
const chunks = [];
socket.once("connect", () => socket.write(line + "\\n"));
socket.on("data", (data) => {
  chunks.push(data);
  if (data.indexOf(10) === -1) return;
  const text = Buffer.concat(chunks).toString("utf8");
  finish({ line: text.slice(0, text.indexOf("\\n")) });
});
socket.once("error", (error) => finish({ error: error.code || error.message }));
socket.once("close", () => finish({ error: "closed the connection without an answer" }));
`;

/** requestSync's answer when the socket cannot be reached at all: error.code is "ENOENT", "ECONNREFUSED"... */
export class ControlConnectError extends ControlClientError {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** One request, one reply, blocking the calling thread (for the synchronous CLI commands). */
export function requestSync(socketPath: string, req: ControlRequest, timeoutMs = DEFAULT_TIMEOUT_MS): ControlReply {
  const flag = new SharedArrayBuffer(4);
  const signal = new Int32Array(flag);
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { socketPath, line: JSON.stringify(req), port: port2, flag },
    transferList: [port2],
    stdout: false,
    stderr: false,
  });
  worker.unref();
  try {
    const outcome = Atomics.wait(signal, 0, 0, timeoutMs);
    const message = receiveMessageOnPort(port1)?.message as { line?: string; error?: string } | undefined;
    if (message === undefined) {
      throw new ControlClientError(outcome === "timed-out" ? `no answer from ${socketPath} within ${timeoutMs} ms` : `no answer from ${socketPath}`);
    }
    if (message.error !== undefined) throw new ControlConnectError(`cannot talk to ${socketPath}: ${message.error}`, message.error);
    return parseReply(message.line!);
  } finally {
    port1.close();
    void worker.terminate();
  }
}
