// The daemon's control socket: /run/uptables/<netns inode>.sock (directory 0700, socket 0600, so
// only root talks to it). Each line is one request, carried out at once on the live rule set and
// engine (the handler is synchronous, so requests from all clients run one at a time).
import { chmodSync, lstatSync, mkdirSync, unlinkSync } from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { dirname } from "node:path";
import type { Netfilter } from "../core/engine/netfilter.ts";
import type { RuleSet } from "../core/rules/model.ts";
import type { DaemonStatus } from "./daemon-status.ts";
import { applyToEngine } from "./execute.ts";
import { WatchHub } from "./watch.ts";
import { errorReply, MAX_REQUEST_BYTES, parseRequest, ProtocolError, type ControlReply } from "./protocol.ts";

export interface ControlServerOptions {
  socketPath: string;
  rules: RuleSet;
  engine: Netfilter;
  /** Longest request line accepted (bytes, without the newline). */
  maxRequestBytes?: number;
  log?: (line: string) => void;
  now?: () => number;
  /** The daemon's counters and memory, for the "stats" request (daemon-status.ts). */
  status?: () => DaemonStatus;
}

export class ControlServerError extends Error {}

/** Whether something answers on the socket (a live daemon) rather than a file left behind. */
export function socketAnswers(path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(path);
    const done = (answer: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(true), timeoutMs);
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** Removes a socket file no daemon listens on any more; true when one was removed. */
export async function removeStaleSocket(path: string): Promise<boolean> {
  try {
    if (!lstatSync(path).isSocket()) return false;
  } catch {
    return false;
  }
  if (await socketAnswers(path)) return false;
  unlinkSync(path);
  return true;
}

export class ControlServer {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly maxBytes: number;
  private readonly now: () => number;
  /** Streams (uptables trace, conntrack -E) that clients keep open. */
  readonly watches: WatchHub;
  /** Requests carried out (for tests and logs). */
  handled = 0;

  constructor(private readonly opts: ControlServerOptions) {
    this.maxBytes = opts.maxRequestBytes ?? MAX_REQUEST_BYTES;
    this.now = opts.now ?? Date.now;
    this.watches = new WatchHub(opts.engine, { log: opts.log, now: this.now });
  }

  get socketPath(): string {
    return this.opts.socketPath;
  }

  /** Creates the directory (0700) and the socket (0600); refuses when another daemon answers there. */
  async start(): Promise<void> {
    const path = this.opts.socketPath;
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    chmodSync(dirname(path), 0o700);
    let exists = false;
    try {
      lstatSync(path);
      exists = true;
    } catch {
      // none
    }
    if (exists) {
      if (await socketAnswers(path)) throw new ControlServerError(`another uptables daemon answers on ${path}`);
      unlinkSync(path);
    }
    const server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(path, () => {
        server.removeListener("error", reject);
        resolve();
      });
    });
    chmodSync(path, 0o600);
    server.on("error", (error) => this.opts.log?.(`control socket: ${error.message}`));
    this.server = server;
  }

  /** Stops listening, drops the clients and removes the socket file. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.watches.stop();
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
    try {
      unlinkSync(this.opts.socketPath);
    } catch {
      // already gone
    }
  }

  /** Stops at once (for exit paths that cannot wait): the socket file is removed synchronously. */
  stopSync(): void {
    void this.stop();
    try {
      unlinkSync(this.opts.socketPath);
    } catch {
      // already gone
    }
  }

  /** One request line to its reply; never throws. */
  handleLine(line: string): ControlReply {
    let reply: ControlReply;
    try {
      const request = parseRequest(line);
      const status = this.opts.status;
      if (request.op === "stats" && status !== undefined) reply = { stdout: `${JSON.stringify(status())}\n`, stderr: "", exitCode: 0 };
      else reply = applyToEngine(this.opts.rules, this.opts.engine, request, this.now());
    } catch (error) {
      if (error instanceof ProtocolError) return errorReply(`bad request: ${error.message}`, 2);
      this.opts.log?.(`control request failed: ${(error as Error)?.stack ?? String(error)}`);
      return errorReply(`internal error: ${(error as Error)?.message ?? String(error)}`);
    }
    this.handled++;
    return reply;
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    let chunks: Buffer[] = [];
    let size = 0;
    let discarding = false;
    const send = (reply: ControlReply): void => {
      if (!socket.destroyed) socket.write(`${JSON.stringify(reply)}\n`);
    };
    let streaming = false;
    socket.on("data", (data: Buffer) => {
      if (streaming) return;
      let start = 0;
      for (let nl = data.indexOf(10, start); nl !== -1; nl = data.indexOf(10, start)) {
        const piece = data.subarray(start, nl);
        start = nl + 1;
        if (discarding) {
          discarding = false;
          continue;
        }
        if (size + piece.length > this.maxBytes) {
          send(errorReply(`bad request: longer than ${this.maxBytes} bytes`, 2));
        } else {
          chunks.push(piece);
          const line = Buffer.concat(chunks).toString("utf8");
          if (line.trim() !== "") {
            // A trace or conntrack -E: the connection becomes that stream (watch.ts).
            if (this.watches.take(socket, line)) {
              streaming = true;
              return;
            }
            send(this.handleLine(line));
          }
        }
        chunks = [];
        size = 0;
      }
      if (start < data.length && !discarding) {
        const rest = data.subarray(start);
        if (size + rest.length > this.maxBytes) {
          // Too long: answer now, skip the rest of the line.
          send(errorReply(`bad request: longer than ${this.maxBytes} bytes`, 2));
          chunks = [];
          size = 0;
          discarding = true;
        } else {
          chunks.push(Buffer.from(rest));
          size += rest.length;
        }
      }
    });
    socket.on("error", () => socket.destroy());
    socket.on("close", () => this.sockets.delete(socket));
  }
}
