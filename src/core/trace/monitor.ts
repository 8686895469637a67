// The engine's side of `uptables trace`: decides which packets are traced (a watcher's filter
// matches as the packet arrives, or a `-j TRACE` rule marks it while a plain watcher is attached, as
// the kernel traces nf_trace packets while xtables-monitor listens), and turns the engine's trace
// events into records handed to the watchers that want the packet. No I/O: watchers deliver.
import type { PacketResult, TraceEvent, TraceMonitor } from "../engine/netfilter.ts";
import type { PacketContext } from "../engine/packet-context.ts";
import type { Hook } from "../rules/hooks.ts";
import { traceFilterMatches, type TraceFilter } from "./filter.ts";
import { ctStateName, endpoint, packetRecord, stepRecord, type TraceRecord } from "./record.ts";

export interface TraceWatcher {
  /** Null: only packets a -j TRACE rule marks. */
  readonly filter: TraceFilter | null;
  deliver(record: TraceRecord): void;
}

export class PacketTraceMonitor implements TraceMonitor {
  private readonly watchers = new Set<TraceWatcher>();
  private markedWatchers = 0;
  /** The watchers of the packet being walked. */
  private readonly current: TraceWatcher[] = [];
  private started = false;
  private id = "";
  /** hook:table of the last PACKET record: a new one is sent when a new table starts on the packet. */
  private lastTable = "";
  private nextId: number;
  private dropHook: Hook | null = null;

  constructor(firstId = Math.floor(Math.random() * 0x100000000)) {
    this.nextId = firstId >>> 0;
  }

  add(watcher: TraceWatcher): void {
    if (this.watchers.has(watcher)) return;
    this.watchers.add(watcher);
    if (watcher.filter === null) this.markedWatchers++;
  }

  remove(watcher: TraceWatcher): void {
    if (!this.watchers.delete(watcher)) return;
    if (watcher.filter === null) this.markedWatchers--;
  }

  get watchesMarked(): boolean {
    return this.markedWatchers > 0;
  }

  get size(): number {
    return this.watchers.size;
  }

  begin(ctx: PacketContext): boolean {
    this.current.length = 0;
    this.started = false;
    for (const w of this.watchers) if (w.filter !== null && traceFilterMatches(w.filter, ctx)) this.current.push(w);
    return this.current.length > 0;
  }

  event(event: TraceEvent, ctx: PacketContext): void {
    if (!this.start()) return;
    const id = this.id;
    switch (event.kind) {
      case "hook":
        return;
      case "rule": {
        const key = `${event.hook}:${event.step.table}`;
        if (key !== this.lastTable) {
          this.lastTable = key;
          this.send(packetRecord(id, event.step.table, ctx));
        }
        this.send(stepRecord(id, event.hook, event.step));
        return;
      }
      case "conntrack":
        this.send({ type: "conntrack", id, hook: event.hook, state: ctStateName(event.state), connection: event.ctId, direction: event.direction === 0 ? "ORIGINAL" : "REPLY" });
        return;
      case "nat": {
        const b = event.before;
        const a = event.after;
        const ports = b.sourcePort !== 0 || b.destinationPort !== 0;
        const dnat = event.manip === "DNAT";
        const from = dnat ? endpoint(b.destination, b.destinationPort, ports) : endpoint(b.source, b.sourcePort, ports);
        const to = dnat ? endpoint(a.destination, a.destinationPort, ports) : endpoint(a.source, a.sourcePort, ports);
        this.send({ type: "nat", id, hook: event.hook, manip: event.manip, reply: event.reply, from, to });
        return;
      }
      case "route":
        this.send({ type: "route", id, decision: event.decision, out: event.outInterface });
        return;
      case "drop":
        // Reported with the verdict at the end of the packet.
        this.dropHook = event.hook;
        return;
    }
  }

  end(result: PacketResult): void {
    if (!this.start()) return;
    const record: TraceRecord = result.accepted
      ? { type: "verdict", id: this.id, verdict: "ACCEPT", path: result.path, out: result.outInterface }
      : { type: "verdict", id: this.id, verdict: "DROP", path: result.path, out: result.outInterface, hook: this.dropHook, reason: result.dropReason ?? "unknown" };
    this.send(record);
    this.current.length = 0;
    this.started = false;
  }

  /** The first event of a traced packet picks its id (and, for a -j TRACE packet, its watchers). */
  private start(): boolean {
    if (this.started) return this.current.length > 0;
    this.started = true;
    if (this.current.length === 0) for (const w of this.watchers) if (w.filter === null) this.current.push(w);
    if (this.current.length === 0) return false;
    this.id = this.nextId.toString(16).padStart(8, "0");
    this.nextId = (this.nextId + 1) >>> 0;
    this.lastTable = "";
    this.dropHook = null;
    return true;
  }

  private send(record: TraceRecord): void {
    for (const w of this.current) w.deliver(record);
  }
}
