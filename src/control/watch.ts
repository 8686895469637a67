// The daemon's streams: `uptables trace` and `uptables conntrack -E`. A client's first request line
// opens one; the first reply is an ordinary {"stdout","stderr","exitCode"} (non-zero: refused, and
// the connection is closed); from then on the connection carries the stream's records, one JSON
// object a line, until the client goes away (then the daemon forgets it) or the daemon stops:
//
//   {"op":"trace","args":["-p","tcp","--dport","8080"]}  -> trace records (src/core/trace/record.ts)
//   {"op":"conntrack","args":["-E","-e","NEW"]}           -> {"type":"event","event":"NEW","line":"    [NEW] tcp ..."}
//
// Lines the client sends after the first are ignored.
//
// The engine is told only while someone watches: the trace monitor is attached to it with the first
// trace client and detached with the last, and the conntrack event sink likewise. A slow reader
// never stalls the datapath: once more than `maxPendingBytes` wait for it, its records are dropped
// and counted, and the count is sent ({"type":"dropped","count":N}) when it has caught up.
import type { Socket } from "node:net";
import { formatConntrackEvent, type ConntrackEventType } from "../core/conntrack/events.ts";
import type { Netfilter } from "../core/engine/netfilter.ts";
import { parseTraceCommand, TraceUsageError, type TraceCommand } from "../core/trace/filter.ts";
import { PacketTraceMonitor, type TraceWatcher } from "../core/trace/monitor.ts";
import { ConntrackUsage, matches, parseArgs, type Filter } from "./conntrack.ts";
import { errorReply, type ControlReply } from "./protocol.ts";

export const MAX_PENDING_BYTES = 256 * 1024;

const CONNTRACK_TAG = "conntrack v1.4.7 (conntrack-tools): ";

/** One client's stream: writes while the client keeps up, counts what it had to drop otherwise. */
export class WatchStream {
  private dropped = 0;
  private waiting = false;
  /** Everything dropped over the stream's life (for the daemon's log). */
  droppedTotal = 0;

  constructor(
    private readonly socket: Socket,
    private readonly maxPendingBytes: number,
  ) {}

  send(message: object): void {
    const socket = this.socket;
    if (socket.destroyed || !socket.writable) return;
    // Once dropping, keep dropping until the backlog drained, so the notice comes in order.
    if (this.dropped > 0 || socket.writableLength > this.maxPendingBytes) {
      this.dropped++;
      this.droppedTotal++;
      this.waitForDrain();
      return;
    }
    socket.write(`${JSON.stringify(message)}\n`);
  }

  private waitForDrain(): void {
    if (this.waiting) return;
    this.waiting = true;
    this.socket.once("drain", () => {
      this.waiting = false;
      const count = this.dropped;
      this.dropped = 0;
      if (count > 0 && !this.socket.destroyed) this.socket.write(`${JSON.stringify({ type: "dropped", count })}\n`);
    });
  }
}

interface EventWatcher {
  readonly stream: WatchStream;
  readonly filter: Filter;
  readonly types: ReadonlySet<ConntrackEventType>;
}

export interface WatchHubOptions {
  log?: (line: string) => void;
  /** The engine's clock (for the timeouts event lines show). */
  now?: () => number;
  maxPendingBytes?: number;
}

function reply(socket: Socket, answer: ControlReply): void {
  socket.write(`${JSON.stringify(answer)}\n`);
}

export class WatchHub {
  private readonly monitor = new PacketTraceMonitor();
  private readonly eventWatchers = new Set<EventWatcher>();
  private readonly sockets = new Set<Socket>();
  private readonly now: () => number;
  private readonly maxPendingBytes: number;

  constructor(
    private readonly engine: Netfilter,
    private readonly opts: WatchHubOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.maxPendingBytes = opts.maxPendingBytes ?? MAX_PENDING_BYTES;
  }

  /** How many clients watch (trace, events). */
  get watching(): { trace: number; events: number } {
    return { trace: this.monitor.size, events: this.eventWatchers.size };
  }

  /**
   * Takes the socket over when `line` opens a stream (a trace, or conntrack with -E) and answers
   * it; false for any other request, which the caller carries out as usual.
   */
  take(socket: Socket, line: string): boolean {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return false;
    }
    if (typeof value !== "object" || value === null) return false;
    const r = value as Record<string, unknown>;
    const args = r.args;
    const stringArgs = Array.isArray(args) && args.every((a) => typeof a === "string");
    if (r.op === "trace") {
      if (!stringArgs) {
        reply(socket, errorReply("bad request: trace: args must be an array of strings", 2));
        socket.end();
        return true;
      }
      this.startTrace(socket, args as string[]);
      return true;
    }
    if (r.op === "conntrack" && stringArgs && (args as string[]).some((a) => a === "-E" || a === "--event")) {
      this.startEvents(socket, args as string[]);
      return true;
    }
    return false;
  }

  /** Ends every stream and detaches from the engine (the daemon stops). */
  stop(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    this.eventWatchers.clear();
    this.engine.setTraceMonitor(null);
    this.engine.conntrack.table.events = null;
  }

  private startTrace(socket: Socket, args: string[]): void {
    let command: TraceCommand;
    try {
      command = parseTraceCommand(args);
    } catch (error) {
      if (!(error instanceof TraceUsageError)) throw error;
      reply(socket, { stdout: "", stderr: `uptables trace: ${error.message}\nTry \`uptables trace --help' for more information.\n`, exitCode: 2 });
      socket.end();
      return;
    }
    const stream = new WatchStream(socket, this.maxPendingBytes);
    const watcher: TraceWatcher = { filter: command.traceMarkedOnly ? null : command.filter, deliver: (record) => stream.send(record) };
    reply(socket, { stdout: "", stderr: "", exitCode: 0 });
    this.monitor.add(watcher);
    if (this.monitor.size === 1) this.engine.setTraceMonitor(this.monitor);
    this.track(socket, `trace ${args.join(" ")}`.trim(), stream, () => {
      this.monitor.remove(watcher);
      if (this.monitor.size === 0) this.engine.setTraceMonitor(null);
    });
  }

  private startEvents(socket: Socket, args: string[]): void {
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs(args);
    } catch (error) {
      if (!(error instanceof ConntrackUsage)) throw error;
      reply(socket, { stdout: "", stderr: `${CONNTRACK_TAG}${error.message}\nTry \`conntrack -h' or 'conntrack --help' for more information.\n`, exitCode: 2 });
      socket.end();
      return;
    }
    const stream = new WatchStream(socket, this.maxPendingBytes);
    const watcher: EventWatcher = { stream, filter: parsed.filter, types: new Set(parsed.eventMask) };
    reply(socket, { stdout: "", stderr: "", exitCode: 0 });
    this.eventWatchers.add(watcher);
    const table = this.engine.conntrack.table;
    if (this.eventWatchers.size === 1) table.events = (type, id, now) => this.deliverEvent(type, id, now ?? this.now());
    this.track(socket, `conntrack ${args.join(" ")}`, stream, () => {
      this.eventWatchers.delete(watcher);
      if (this.eventWatchers.size === 0) table.events = null;
    });
  }

  private deliverEvent(type: ConntrackEventType, id: number, now: number): void {
    const table = this.engine.conntrack.table;
    let line: string | null = null;
    for (const w of this.eventWatchers) {
      if (!w.types.has(type) || !matches(table, id, w.filter)) continue;
      line ??= formatConntrackEvent(table, type, id, now);
      w.stream.send({ type: "event", event: type, line });
    }
  }

  /** Forgets the stream when its client goes away; incoming lines on a stream are ignored. */
  private track(socket: Socket, what: string, stream: WatchStream, forget: () => void): void {
    this.sockets.add(socket);
    this.opts.log?.(`watch started: ${what}`);
    let forgotten = false;
    const end = (): void => {
      if (forgotten) return;
      forgotten = true;
      this.sockets.delete(socket);
      forget();
      this.opts.log?.(`watch ended: ${what}${stream.droppedTotal > 0 ? ` (${stream.droppedTotal} records dropped for a slow reader)` : ""}`);
    };
    socket.on("close", end);
    socket.on("error", () => socket.destroy());
    socket.on("end", () => socket.end());
  }
}
