// netfilter for IPv4: the hooks a packet passes, in the kernel's order and priorities, around the
// routing decision.
//
//   arriving:  PREROUTING (raw, conntrack, mangle, nat=DNAT) -> routing
//                -> local:   INPUT (mangle, filter, nat=SNAT, confirm) -> delivered
//                -> forward: FORWARD (mangle, filter) -> POSTROUTING (mangle, nat=SNAT, confirm) -> sent
//   sent by the host: routing -> OUTPUT (raw, conntrack, mangle, nat=DNAT, filter) -> re-route if
//                the destination changed -> POSTROUTING (mangle, nat=SNAT, confirm) -> sent
//                (or, to a local address, looped back through PREROUTING and INPUT)
//
// The nat table is consulted only for a connection's first packet; later packets are rewritten from
// the binding stored with the connection. The engine does no I/O: it rewrites the packet in place
// and says what happens to it.
import { Conntrack, type ConntrackOptions } from "../conntrack/conntrack.ts";
import { CtState } from "../conntrack/states.ts";
import type { HostView } from "../host/host-view.ts";
import { Manip, Nat } from "../nat/nat.ts";
import { IPPROTO_ICMP } from "../net/protocols.ts";
import { ICMP_REDIRECT, isIcmpError } from "../packet/icmp.ts";
import type { Hook } from "../rules/hooks.ts";
import type { RuleSet } from "../rules/model.ts";
import type { TableName } from "../rules/tables.ts";
import { compileRuleSet, type CompiledTable } from "./compile.ts";
import { PacketContext, type DropReason } from "./packet-context.ts";
import { walkTable, WalkStack, type WalkStep } from "./traverse.ts";
import { NF_ACCEPT, NF_DROP } from "./verdict.ts";
import type { NatRequest } from "./nat-request.ts";
import { natRangeFor } from "./nat-request.ts";
import { buildIcmpError } from "./icmp-error.ts";
import { ICMP_REDIR_HOST, RedirectLimiter, redirectWanted } from "./icmp-redirect.ts";

export type PacketPath = "input" | "forward" | "output";

/** What happened to a packet. One object, reused: copy what you keep. */
export interface PacketResult {
  accepted: boolean;
  /** Where it went: delivered locally, forwarded, or sent by the host. */
  path: PacketPath;
  /** The interface it leaves by (forward/output), or null when delivered locally. */
  outInterface: string | null;
  dropReason: DropReason | null;
  /**
   * Packets the host sends back toward the sender, ready to go out by the interface the packet came
   * in on: REJECT's answers, and ICMP redirects (which already passed OUTPUT and POSTROUTING).
   */
  replies: Uint8Array[];
  /** Lines written by LOG/NFLOG targets. */
  logs: string[];
  /** The packet's length after rewriting. */
  length: number;
}

/** One step of a packet's journey, for `uptables trace` and `simulate`. */
export type TraceEvent =
  | { readonly kind: "hook"; readonly hook: Hook; readonly table: TableName }
  | { readonly kind: "rule"; readonly hook: Hook; readonly step: WalkStep }
  | { readonly kind: "conntrack"; readonly hook: Hook; readonly state: number; readonly ctId: number; readonly direction: number }
  | {
      readonly kind: "nat";
      readonly hook: Hook;
      readonly manip: "SNAT" | "DNAT";
      /** A reply being rewritten back: the rewrite undoes the connection's other NAT. */
      readonly reply: boolean;
      readonly before: NatSnapshot;
      readonly after: NatSnapshot;
    }
  | { readonly kind: "route"; readonly decision: PacketPath; readonly outInterface: string | null }
  | { readonly kind: "drop"; readonly hook: Hook | null; readonly reason: DropReason };

export interface NatSnapshot {
  readonly source: number;
  readonly destination: number;
  readonly sourcePort: number;
  readonly destinationPort: number;
}

export type Tracer = (event: TraceEvent) => void;

/**
 * `uptables trace`'s hook into the engine (src/core/trace/monitor.ts): asked once per packet as it
 * arrives whether to trace it, then told each step of the packets it (or a -j TRACE rule) marked.
 */
export interface TraceMonitor {
  /** Someone wants packets a -j TRACE rule marks: every packet's walk must then be observed. */
  readonly watchesMarked: boolean;
  begin(ctx: PacketContext): boolean;
  event(event: TraceEvent, ctx: PacketContext): void;
  end(result: PacketResult): void;
}

export interface EngineOptions {
  readonly host: HostView;
  readonly conntrack?: ConntrackOptions;
  /** Random 16-bit numbers for NAT port choice (injectable for repeatable tests). */
  readonly random16?: () => number;
  /** Decrement TTL when forwarding, as ip_forward does (the datapath may turn it off). */
  readonly decrementTtl?: boolean;
}

/** Drops counted by reason, as the kernel's SNMP and conntrack counters would show them. */
export type DropCounters = Record<DropReason, number>;

function emptyDropCounters(): DropCounters {
  return {
    "ip-header": 0,
    "transport-header": 0,
    "martian-source": 0,
    "martian-destination": 0,
    "no-route": 0,
    "forwarding-disabled": 0,
    "ttl-exceeded": 0,
    "conntrack-table-full": 0,
    "nat-no-free-tuple": 0,
    "conntrack-insert-failed": 0,
    rule: 0,
    policy: 0,
  };
}

export class Netfilter {
  host: HostView;
  readonly conntrack: Conntrack;
  readonly nat: Nat;
  readonly drops: DropCounters = emptyDropCounters();
  /**
   * Packets the engine made itself while handling others (ICMP redirects): sent, or dropped on their
   * way through OUTPUT/POSTROUTING. Not in `drops`, which counts the packets handed to the engine.
   */
  readonly generated = { sent: 0, dropped: 0 };
  tracer: Tracer | null = null;
  /** Null unless `uptables trace` watches: then one test per packet, and only marked packets are traced. */
  private monitor: TraceMonitor | null = null;
  private monitorTracer: Tracer | null = null;

  // The compiled tables, null where the rule set does not have them (fields, not a record: the
  // per-packet path reads them several times).
  private raw: CompiledTable | null = null;
  private mangle: CompiledTable | null = null;
  private filter: CompiledTable | null = null;
  private natTable: CompiledTable | null = null;
  /** Whether conntrack runs at all (CompiledRuleSet.tracksConnections): the kernel's lazy conntrack. */
  private tracksConnections = false;
  // The packet being handled; while the host sends a packet of its own in the middle of it (an ICMP
  // redirect), ctx and result point at a second pair (see sendGenerated).
  private ctx = new PacketContext();
  private generatedCtx = new PacketContext();
  private readonly redirects = new RedirectLimiter();
  private readonly stack = new WalkStack();
  private readonly decrementTtl: boolean;
  private currentHook: Hook = "PREROUTING";
  private result: PacketResult = { accepted: false, path: "input", outInterface: null, dropReason: null, replies: [], logs: [], length: 0 };
  private generatedResult: PacketResult = { accepted: false, path: "output", outInterface: null, dropReason: null, replies: [], logs: [], length: 0 };
  private readonly observe = (step: WalkStep): void => {
    this.tracer?.({ kind: "rule", hook: this.currentHook, step });
  };

  constructor(rules: RuleSet, opts: EngineOptions) {
    this.host = opts.host;
    this.conntrack = new Conntrack(opts.conntrack);
    const random16 = opts.random16 ?? (() => Math.floor(Math.random() * 65536));
    this.nat = new Nat(this.conntrack, random16);
    this.decrementTtl = opts.decrementTtl ?? true;
    this.load(rules);
  }

  /** Compiles and swaps in a rule set; tracked connections and their NAT stay (as in the kernel). */
  load(rules: RuleSet): void {
    const compiled = compileRuleSet(rules);
    this.raw = compiled.raw;
    this.mangle = compiled.mangle;
    this.filter = compiled.filter;
    this.natTable = compiled.nat;
    this.tracksConnections = compiled.tracksConnections;
  }

  /**
   * A packet that arrived on `inInterface`: PREROUTING, routing, then INPUT or FORWARD and POSTROUTING.
   * `checksumVerified`: the device vouches for the transport checksum (CHECKSUM_UNNECESSARY).
   */
  receive(buf: Uint8Array, length: number, inInterface: string, now: number, checksumVerified = false): PacketResult {
    const ctx = this.ctx;
    const result = this.reset(now);
    const bad = ctx.load(buf, length);
    ctx.host = this.host;
    ctx.conntrack = this.conntrack.table;
    ctx.now = now;
    ctx.inInterface = inInterface;
    ctx.checksumVerified = checksumVerified;
    if (bad) return this.drop(null, bad);
    if (this.monitor === null) return this.receiveLoaded(ctx, result);
    this.beginTrace(ctx, this.monitor);
    return this.traced(ctx, this.receiveLoaded(ctx, result));
  }

  /**
   * Attaches `uptables trace` (or detaches it with null). It replaces `tracer`: events reach the
   * monitor only for packets marked traced (by its filter or a -j TRACE rule).
   */
  setTraceMonitor(monitor: TraceMonitor | null): void {
    this.monitor = monitor;
    this.tracer = null;
    this.monitorTracer =
      monitor === null
        ? null
        : (event) => {
            if (this.ctx.traced) monitor.event(event, this.ctx);
          };
  }

  /**
   * Per packet while a monitor is attached: the engine's trace paths run only for a packet the
   * filter selected, or for every packet while a -j TRACE rule may still mark it.
   */
  private beginTrace(ctx: PacketContext, monitor: TraceMonitor): void {
    if (monitor.begin(ctx)) ctx.traced = true;
    this.tracer = ctx.traced || monitor.watchesMarked ? this.monitorTracer : null;
  }

  private traced(ctx: PacketContext, result: PacketResult): PacketResult {
    if (ctx.traced && this.monitor !== null) this.monitor.end(result);
    return result;
  }

  /** A packet the host itself sends: OUTPUT, re-route, POSTROUTING (looped back if local). */
  send(buf: Uint8Array, length: number, now: number): PacketResult {
    const ctx = this.ctx;
    const result = this.reset(now);
    const bad = ctx.load(buf, length);
    ctx.host = this.host;
    ctx.conntrack = this.conntrack.table;
    ctx.now = now;
    if (bad) return this.drop(null, bad);
    if (this.monitor === null) return this.sendLoaded(ctx, result);
    this.beginTrace(ctx, this.monitor);
    return this.traced(ctx, this.sendLoaded(ctx, result));
  }

  private sendLoaded(ctx: PacketContext, result: PacketResult): PacketResult {
    result.path = "output";
    const initial = this.host.route(ctx.destination);
    if (!initial) return this.drop("OUTPUT", "no-route");
    ctx.outInterface = initial.route.type === "local" || initial.route.type === "broadcast" ? "lo" : initial.route.device;

    const destinationBefore = ctx.destination;
    if (!this.runHook(ctx, "OUTPUT")) return result;
    if (ctx.destination !== destinationBefore) {
      // ip_route_me_harder: the destination changed (DNAT in OUTPUT), so route again.
      const again = this.host.route(ctx.destination);
      if (!again) return this.drop("OUTPUT", "no-route");
      ctx.outInterface = again.route.type === "local" || again.route.type === "broadcast" ? "lo" : again.route.device;
    }
    // ip_route_output (__mkroute_output): a 127/8 source may leave only through lo, or an interface
    // with route_localnet. Checked after OUTPUT: a DNAT there may send 127.0.0.1's packet out.
    if (ctx.outInterface !== "lo" && this.host.isLoopbackAddress(ctx.source) && !this.host.routesLocalnet(ctx.outInterface!)) {
      return this.drop("OUTPUT", "martian-source");
    }
    if (!this.runHook(ctx, "POSTROUTING")) return result;
    if (ctx.outInterface === "lo") {
      // Delivered to the host itself: the packet comes back in through the loopback device.
      ctx.inInterface = "lo";
      ctx.outInterface = null;
      const looped = this.receiveLoaded(ctx, result);
      looped.path = "output";
      return looped;
    }
    result.accepted = true;
    result.outInterface = ctx.outInterface;
    result.length = ctx.length;
    if (this.tracer) this.trace({ kind: "route", decision: "output", outInterface: ctx.outInterface });
    return result;
  }

  /**
   * A packet the host makes while handling another (icmp_send from ip_forward): it passes OUTPUT and
   * POSTROUTING like anything the host sends (raw OUTPUT counts it, its own conntrack look-up finds
   * the quoted connection only once confirmed) and, if it survives, joins `outer`'s replies. The
   * handled packet's context is put aside meanwhile; tracing is off for the generated packet.
   */
  private sendGenerated(packet: Uint8Array, outer: PacketResult): void {
    const handled = this.ctx;
    const tracer = this.tracer;
    const hook = this.currentHook;
    const ctx = this.generatedCtx;
    const result = this.generatedResult;
    this.ctx = ctx;
    this.result = result;
    this.tracer = null;
    try {
      this.reset(handled.now);
      result.path = "output";
      if (ctx.load(packet, packet.length) === null) {
        ctx.host = this.host;
        ctx.conntrack = this.conntrack.table;
        ctx.now = handled.now;
        if (handled.ctId >= 0) {
          // nf_ct_attach: the error belongs to the handled packet's connection (even unconfirmed),
          // as RELATED in the other direction; nat OUTPUT then drops a redirect about a NATed one.
          ctx.ctId = handled.ctId;
          ctx.ctDirection = handled.ctDirection ^ 1;
          ctx.ctState = CtState.RELATED;
        }
        this.sendLoaded(ctx, result);
      }
    } finally {
      this.ctx = handled;
      this.result = outer;
      this.tracer = tracer;
      this.currentHook = hook;
    }
    if (result.logs.length > 0) outer.logs.push(...result.logs);
    if (result.replies.length > 0) outer.replies.push(...result.replies);
    // Sent out of an interface (a generated packet to the host itself would be delivered to it, not sent).
    if (result.accepted && result.outInterface !== null) {
      outer.replies.push(packet.subarray(0, result.length));
      this.generated.sent++;
    } else if (!result.accepted) {
      this.generated.dropped++;
    }
  }

  private reset(now: number): PacketResult {
    const result = this.result;
    result.accepted = false;
    result.path = "input";
    result.outInterface = null;
    result.dropReason = null;
    if (result.replies.length !== 0) result.replies = [];
    if (result.logs.length !== 0) result.logs = [];
    result.length = 0;
    this.ctx.now = now;
    return result;
  }

  private receiveLoaded(ctx: PacketContext, result: PacketResult): PacketResult {
    if (!this.runHook(ctx, "PREROUTING")) return result;

    // The routing decision (ip_route_input): martians, local delivery, or forwarding.
    const inInterface = ctx.inInterface!;
    if (inInterface !== "lo" && !this.host.routesLocalnet(inInterface)) {
      if (this.host.isLoopbackAddress(ctx.source)) return this.drop("PREROUTING", "martian-source");
      if (this.host.isLoopbackAddress(ctx.destination)) return this.drop("PREROUTING", "martian-destination");
    }
    const route = this.host.route(ctx.destination);
    const type = route?.route.type;
    if (type === "local" || type === "broadcast" || ctx.destination === 0xffffffff) {
      result.path = "input";
      if (this.tracer) this.trace({ kind: "route", decision: "input", outInterface: null });
      if (!this.runHook(ctx, "INPUT")) return result;
      result.accepted = true;
      result.length = ctx.length;
      return result;
    }
    if (!this.host.ipForward) return this.drop("PREROUTING", "forwarding-disabled");
    if (!route || type !== "unicast" || route.route.device === null) return this.drop("PREROUTING", "no-route");
    result.path = "forward";
    ctx.outInterface = route.route.device;
    const nextHop = route.nextHop;
    if (this.tracer) this.trace({ kind: "route", decision: "forward", outInterface: ctx.outInterface });
    if (this.decrementTtl) {
      if (ctx.ip.ttl <= 1) return this.drop("PREROUTING", "ttl-exceeded");
      ctx.ip.decrementTtl();
    }
    // ip_forward: back out of the interface it came in on, so tell the sender the better next hop
    // (before FORWARD, with the TTL already decremented); the packet is forwarded all the same.
    if (redirectWanted(this.host, inInterface, ctx.outInterface, ctx.source) && this.redirects.allow(ctx.source, ctx.now)) {
      const redirect = buildIcmpError(ctx, ICMP_REDIRECT, ICMP_REDIR_HOST, nextHop);
      if (redirect !== null) this.sendGenerated(redirect, result);
    }
    if (!this.runHook(ctx, "FORWARD")) return result;
    if (!this.runHook(ctx, "POSTROUTING")) return result;
    result.accepted = true;
    result.outInterface = ctx.outInterface;
    result.length = ctx.length;
    return result;
  }

  /**
   * Runs every table registered at `hook`, in priority order, with conntrack and NAT where the kernel
   * has them. False when the packet was dropped (the result already says why).
   */
  private runHook(ctx: PacketContext, hook: Hook): boolean {
    ctx.hook = hook;
    this.currentHook = hook;
    switch (hook) {
      case "PREROUTING":
        ctx.hookIndex = 0;
        return this.prerouting(ctx);
      case "INPUT":
        ctx.hookIndex = 1;
        return this.input(ctx);
      case "FORWARD":
        ctx.hookIndex = 2;
        return this.forward(ctx);
      case "OUTPUT":
        ctx.hookIndex = 3;
        return this.output(ctx);
      case "POSTROUTING":
        ctx.hookIndex = 4;
        return this.postrouting(ctx);
    }
  }

  // Each hook's functions in priority order: raw (-300), conntrack (-200), mangle (-150),
  // nat DNAT (-100), filter (0), nat SNAT (100), conntrack confirm (last).

  private prerouting(ctx: PacketContext): boolean {
    if (this.raw !== null && !this.walk(ctx, this.raw)) return false;
    if (!this.track(ctx)) return false;
    if (this.mangle !== null && !this.walk(ctx, this.mangle)) return false;
    return this.natHook(ctx, "PREROUTING", Manip.Destination);
  }

  private input(ctx: PacketContext): boolean {
    if (this.mangle !== null && !this.walk(ctx, this.mangle)) return false;
    if (this.filter !== null && !this.walk(ctx, this.filter)) return false;
    if (!this.natHook(ctx, "INPUT", Manip.Source)) return false;
    return this.confirm(ctx);
  }

  private forward(ctx: PacketContext): boolean {
    if (this.mangle !== null && !this.walk(ctx, this.mangle)) return false;
    return this.filter === null || this.walk(ctx, this.filter);
  }

  private output(ctx: PacketContext): boolean {
    if (this.raw !== null && !this.walk(ctx, this.raw)) return false;
    if (!this.track(ctx)) return false;
    if (this.mangle !== null && !this.walk(ctx, this.mangle)) return false;
    if (!this.natHook(ctx, "OUTPUT", Manip.Destination)) return false;
    return this.filter === null || this.walk(ctx, this.filter);
  }

  private postrouting(ctx: PacketContext): boolean {
    if (this.mangle !== null && !this.walk(ctx, this.mangle)) return false;
    if (!this.natHook(ctx, "POSTROUTING", Manip.Source)) return false;
    return this.confirm(ctx);
  }

  private track(ctx: PacketContext): boolean {
    // No rule needs conntrack: the packet gets no connection at all (and so no NAT, no confirm).
    if (!this.tracksConnections) return true;
    const problem = this.conntrack.track(ctx);
    if (problem) {
      this.drop(ctx.hook, problem);
      return false;
    }
    if (this.tracer) this.trace({ kind: "conntrack", hook: ctx.hook, state: ctx.ctState, ctId: ctx.ctId, direction: ctx.ctDirection });
    return true;
  }

  private confirm(ctx: PacketContext): boolean {
    const problem = this.conntrack.confirm(ctx);
    if (problem) {
      this.drop(ctx.hook, problem);
      return false;
    }
    return true;
  }

  private walk(ctx: PacketContext, table: CompiledTable): boolean {
    if (table.hookChain[ctx.hookIndex]! < 0) return true;
    if (this.tracer) this.trace({ kind: "hook", hook: ctx.hook, table: table.name });
    const verdict = walkTable(table, ctx, this.stack, this.tracer ? this.observe : null);
    if (ctx.replies.length > 0) this.result.replies.push(...ctx.replies.splice(0));
    if (ctx.logs.length > 0) this.result.logs.push(...ctx.logs.splice(0));
    if (verdict === NF_DROP) {
      this.drop(ctx.hook, ctx.hotdrop ? "transport-header" : "rule");
      return false;
    }
    return verdict === NF_ACCEPT || verdict > NF_ACCEPT;
  }

  /** nf_nat_inet_fn: bind a new connection (nat table or a null binding), then rewrite the packet. */
  private natHook(ctx: PacketContext, hook: Hook, manip: Manip): boolean {
    if (ctx.ctId < 0) return true;
    const before = this.tracer ? snapshot(ctx) : null;
    if (ctx.ctState === CtState.RELATED && ctx.protocol === IPPROTO_ICMP && isIcmpError(ctx.icmpType)) {
      // Without a nat table nf_nat has no hook to translate (or drop) the error at.
      if (this.natTable !== null && !this.nat.translateIcmpError(ctx, manip)) {
        this.drop(hook, "rule");
        return false;
      }
      this.traceNat(ctx, hook, manip, before);
      return true;
    }
    if (ctx.ctState === CtState.NEW && !this.nat.isInitialized(ctx.ctId, manip)) {
      const table = this.natTable;
      ctx.natRequest = null;
      if (table && table.hookChain[ctx.hookIndex]! >= 0) {
        if (this.tracer) this.trace({ kind: "hook", hook, table: "nat" });
        const verdict = walkTable(table, ctx, this.stack, this.tracer ? this.observe : null);
        if (verdict === NF_DROP) {
          this.drop(hook, ctx.hotdrop ? "transport-header" : "rule");
          return false;
        }
      }
      const request: NatRequest | null = ctx.natRequest;
      let outcome: "ok" | "nat-no-free-tuple" | "no-route";
      if (request) {
        const range = natRangeFor(request, ctx, this.host);
        outcome = range ? this.nat.setup(ctx.ctId, range, manip, ctx.now) : "no-route";
      } else {
        outcome = this.nat.nullBinding(ctx.ctId, manip, ctx.now);
      }
      if (outcome !== "ok") {
        this.drop(hook, outcome);
        return false;
      }
    }
    this.nat.apply(ctx, manip);
    this.traceNat(ctx, hook, manip, before);
    return true;
  }

  private traceNat(ctx: PacketContext, hook: Hook, manip: Manip, before: NatSnapshot | null): void {
    if (!before) return;
    const after = snapshot(ctx);
    if (after.source === before.source && after.destination === before.destination && after.sourcePort === before.sourcePort && after.destinationPort === before.destinationPort) return;
    if (this.tracer) this.trace({ kind: "nat", hook, manip: manip === Manip.Source ? "SNAT" : "DNAT", reply: ctx.ctDirection === 1, before, after });
  }

  private drop(hook: Hook | null, reason: DropReason): PacketResult {
    const result = this.result;
    // A generated packet only borrowed its connection: dropping it must not remove that one.
    if (this.ctx === this.generatedCtx) this.ctx.ctId = -1;
    else this.conntrack.abandon(this.ctx);
    if (this.ctx !== this.generatedCtx) this.drops[reason]++;
    result.accepted = false;
    result.dropReason = reason;
    if (this.tracer) this.trace({ kind: "drop", hook, reason });
    return result;
  }

  private trace(event: TraceEvent): void {
    if (this.tracer) this.tracer(event);
  }

  /** Expires connections on the engine's clock; call periodically (the kernel's gc worker). */
  collectGarbage(now: number, budget?: number): number {
    return this.conntrack.table.collectGarbage(now, budget);
  }
}

function snapshot(ctx: PacketContext): NatSnapshot {
  return { source: ctx.source, destination: ctx.destination, sourcePort: ctx.sourcePort, destinationPort: ctx.destinationPort };
}
