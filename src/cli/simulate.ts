// `uptables simulate`: one packet (and its reply, and more of the flow) through a rule set, offline.
// Prints each step as the kernel would take it: hook, table, chain, rule number and text, verdict,
// conntrack state, NAT applied, the routing decision, and the packet as it leaves.
import { readFileSync } from "node:fs";
import { Netfilter, type PacketResult, type TraceEvent } from "../core/engine/netfilter.ts";
import { CompileError } from "../core/engine/compile.ts";
import { verdictName, NF_ACCEPT, NF_DROP, XT_CONTINUE, XT_RETURN } from "../core/engine/verdict.ts";
import { HostDescriptionError, HostView, type HostDescription } from "../core/host/host-view.ts";
import { CtState } from "../core/conntrack/states.ts";
import { listConnections } from "../core/conntrack/listing.ts";
import { formatAddress } from "../core/net/ipv4-address.ts";
import { formatRuleSpec } from "../core/iptables/rule-format.ts";
import { loadRuleset } from "./ruleset-file.ts";
import { buildFromSpec, buildReply, describePacket, PacketSpecError } from "./packet-spec.ts";
import { createPcapFileWriter, readPcapFile, recordTimeMs } from "../io/pcap.ts";

export const SIMULATE_USAGE = `Usage: uptables simulate [--ruleset FILE] [--host FILE] [--in IFACE | --from-host]
                         [--reply] [--then SPEC]... [--at SECONDS] [--json] SPEC

Sends one packet through the rule set (no root, no TUN) and prints every step: hook, table, chain,
rule, verdict, conntrack state, NAT, routing, and the packet as it leaves.

  SPEC          "tcp SRC:PORT > DST:PORT [syn|ack|fin|rst...]", "udp SRC:PORT > DST:PORT",
                "icmp SRC > DST [id=N seq=N]"; options ttl=N len=N
  --ruleset F   iptables-save file with the rules (or UPTABLES_RULESET)
  --host F      JSON host description (interfaces, addresses, routes); default lab/hosts/docker-host.json
  --in IFACE    the packet arrives on IFACE (default: the interface whose subnet holds the source)
  --from-host   the host itself sends the packet (OUTPUT path)
  --reply       then send the answer to the packet as it left
  --then SPEC   then send another packet (repeatable; each enters like the first)
  --at SECONDS  the clock when the first packet is sent (default 0); later ones follow 1 ms apart
  --json        machine-readable output

  --pcap FILE   instead of SPEC: run every IPv4 packet of a capture through the engine, in order,
                with the capture's clock (one line per packet; --verbose for every step)
  --write FILE  with --pcap: write the packets that pass, as they leave, to a pcap file (raw IPv4)
`;

export class SimulateUsageError extends Error {}

interface SimulateArgs {
  ruleset: string;
  host: string;
  inInterface: string | null;
  fromHost: boolean;
  reply: boolean;
  specs: string[];
  json: boolean;
  at: number;
  pcap: string | null;
  write: string | null;
  verbose: boolean;
}

function parseArgs(argv: readonly string[], defaultHost: string): SimulateArgs {
  const args: SimulateArgs = {
    ruleset: process.env.UPTABLES_RULESET ?? "",
    host: defaultHost,
    inInterface: null,
    fromHost: false,
    reply: false,
    specs: [],
    json: false,
    at: 0,
    pcap: null,
    write: null,
    verbose: false,
  };
  const value = (i: number, name: string): string => {
    const v = argv[i];
    if (v === undefined) throw new SimulateUsageError(`option ${name} requires an argument`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    switch (word) {
      case "--ruleset":
        args.ruleset = value(++i, word);
        break;
      case "--host":
        args.host = value(++i, word);
        break;
      case "--in":
        args.inInterface = value(++i, word);
        break;
      case "--from-host":
        args.fromHost = true;
        break;
      case "--reply":
        args.reply = true;
        break;
      case "--then":
        args.specs.push(value(++i, word));
        break;
      case "--at": {
        const at = Number(value(++i, word));
        if (!Number.isFinite(at) || at < 0) throw new SimulateUsageError(`--at wants seconds (a number >= 0)`);
        args.at = at;
        break;
      }
      case "--json":
        args.json = true;
        break;
      case "--pcap":
        args.pcap = value(++i, word);
        break;
      case "--write":
        args.write = value(++i, word);
        break;
      case "--verbose":
        args.verbose = true;
        break;
      default:
        if (word.startsWith("-")) throw new SimulateUsageError(`unknown option "${word}"`);
        args.specs.unshift(word);
    }
  }
  if (args.pcap !== null && args.specs.length > 0) throw new SimulateUsageError("give either --pcap FILE or a packet, not both");
  if (args.pcap === null && args.write !== null) throw new SimulateUsageError("--write goes with --pcap");
  if (args.pcap === null && args.specs.length === 0) throw new SimulateUsageError("no packet given");
  if (args.ruleset === "") throw new SimulateUsageError("no rule set: give --ruleset FILE (or set UPTABLES_RULESET)");
  if (args.fromHost && args.inInterface) throw new SimulateUsageError("--in and --from-host exclude each other");
  return args;
}

export interface SimulatedPacket {
  readonly label: string;
  readonly input: string;
  readonly entered: string;
  readonly steps: string[];
  readonly verdict: "ACCEPT" | "DROP";
  readonly path: string;
  readonly outInterface: string | null;
  readonly output: string | null;
  readonly dropReason: string | null;
  readonly replies: string[];
  readonly logs: string[];
}

const STATE_NAMES: [number, string][] = [
  [CtState.NEW, "NEW"],
  [CtState.ESTABLISHED, "ESTABLISHED"],
  [CtState.RELATED, "RELATED"],
  [CtState.INVALID, "INVALID"],
  [CtState.UNTRACKED, "UNTRACKED"],
];

function stateName(state: number): string {
  return STATE_NAMES.find(([bit]) => bit === state)?.[1] ?? String(state);
}

function endpointText(address: number, port: number, hasPort: boolean): string {
  return hasPort ? `${formatAddress(address)}:${port}` : formatAddress(address);
}

/** One trace event as a line of the walk. */
export function describeEvent(event: TraceEvent): string | null {
  const pad = (s: string, n: number): string => (s.length >= n ? `${s} ` : s.padEnd(n));
  switch (event.kind) {
    case "hook":
      return null;
    case "conntrack":
      return `${pad(event.hook, 12)}${pad("conntrack", 10)}${stateName(event.state)}${event.ctId >= 0 ? ` (connection ${event.ctId}, ${event.direction === 0 ? "original" : "reply"} direction)` : ""}`;
    case "rule": {
      const step = event.step;
      const where = `${pad(event.hook, 12)}${pad(step.table, 10)}${pad(step.chain, 12)}`;
      if (step.kind === "policy") return `${where}policy ${verdictName(step.verdict)}`;
      if (step.kind === "return") return `${where}end of chain, return`;
      const rule = step.rule!;
      const target = rule.rule.target;
      let outcome: string;
      if (target.kind === "jump") outcome = `jump to ${target.chain}`;
      else if (target.kind === "goto") outcome = `goto ${target.chain}`;
      else if (step.verdict === XT_CONTINUE) outcome = "continue";
      else if (step.verdict === XT_RETURN) outcome = "return";
      else outcome = verdictName(step.verdict);
      return `${where}#${rule.number} -A ${step.chain}${formatRuleSpec(rule.rule)}  => ${outcome}`;
    }
    case "nat": {
      const b = event.before;
      const a = event.after;
      const ports = b.sourcePort !== 0 || b.destinationPort !== 0;
      const from = event.manip === "DNAT" ? endpointText(b.destination, b.destinationPort, ports) : endpointText(b.source, b.sourcePort, ports);
      const to = event.manip === "DNAT" ? endpointText(a.destination, a.destinationPort, ports) : endpointText(a.source, a.sourcePort, ports);
      const kind = event.manip === "DNAT" ? "destination" : "source";
      // On a reply the rewrite undoes the other side's NAT (a reply's source is the DNAT target).
      const label = event.reply ? (event.manip === "DNAT" ? "un-SNAT" : "un-DNAT") : event.manip;
      return `${pad(event.hook, 12)}${pad(label, 10)}${kind} ${from} -> ${to}`;
    }
    case "route":
      return `${pad("routing", 12)}${pad("", 10)}${event.decision === "input" ? "local delivery (INPUT)" : event.decision === "forward" ? `forward, out ${event.outInterface}` : `out ${event.outInterface}`}`;
    case "drop":
      return `${pad(event.hook ?? "receive", 12)}${pad("drop", 10)}${event.reason}`;
  }
}

/** Picks the interface a packet from `source` would arrive on: the one whose subnet holds it. */
function arrivalInterface(host: HostView, source: number): string {
  const route = host.route(source);
  if (route && route.route.device && route.route.type === "unicast") return route.route.device;
  const first = [...host.interfaces.keys()].find((name) => name !== "lo");
  return first ?? "lo";
}

export function simulate(argv: readonly string[], defaultHost: string): { text: string; json: unknown; exitCode: number } {
  const args = parseArgs(argv, defaultHost);
  let description: HostDescription;
  try {
    description = JSON.parse(readFileSync(args.host, "utf8")) as HostDescription;
  } catch (error) {
    throw new SimulateUsageError(`cannot read host description ${args.host}: ${(error as Error).message}`);
  }
  const host = HostView.fromDescription(description);
  const rules = loadRuleset(args.ruleset);
  const engine = new Netfilter(rules, { host, random16: () => 0x1234 });
  if (args.pcap !== null) return simulatePcap(engine, host, args);

  const packets: SimulatedPacket[] = [];
  let now = args.at * 1000;
  let previous: { packet: Uint8Array; length: number; path: string; outInterface: string | null } | null = null;
  const queue: { spec: string | null; reply: boolean }[] = [{ spec: args.specs[0]!, reply: false }];
  if (args.reply) queue.push({ spec: null, reply: true });
  for (const spec of args.specs.slice(1)) queue.push({ spec, reply: false });

  for (const item of queue) {
    let packet: Uint8Array;
    let fromHost = args.fromHost;
    let inInterface = args.inInterface;
    let label: string;
    if (item.reply) {
      if (!previous || previous.path === "drop") {
        packets.push(droppedReplyNote(packets.length + 1));
        continue;
      }
      packet = buildReply(previous.packet, previous.length);
      label = "reply";
      // The answer comes back on the interface the packet left by; to a local process, the host answers.
      fromHost = previous.path === "input";
      inInterface = previous.outInterface;
    } else {
      packet = buildFromSpec(item.spec!);
      label = packets.length === 0 ? "packet" : "then";
    }
    const input = describePacket(packet, packet.length);
    const steps: string[] = [];
    engine.tracer = (event) => {
      const line = describeEvent(event);
      if (line) steps.push(line);
    };
    const working = new Uint8Array(packet);
    const source = (working[12]! << 24) | (working[13]! << 16) | (working[14]! << 8) | working[15]!;
    const entered = fromHost ? "sent by the host" : `in ${inInterface ?? arrivalInterface(host, source >>> 0)}`;
    const result: PacketResult = fromHost
      ? engine.send(working, working.length, now)
      : engine.receive(working, working.length, inInterface ?? arrivalInterface(host, source >>> 0), now);
    engine.tracer = null;
    const output = result.accepted ? describePacket(working, result.length) : null;
    packets.push({
      label: `${label} ${packets.length + 1}`,
      input,
      entered,
      steps,
      verdict: result.accepted ? "ACCEPT" : "DROP",
      path: result.accepted ? result.path : "drop",
      outInterface: result.outInterface,
      output,
      dropReason: result.dropReason,
      replies: result.replies.map((r) => describePacket(r, r.length)),
      logs: [...result.logs],
    });
    previous = { packet: working, length: result.length, path: result.accepted ? result.path : "drop", outInterface: result.outInterface };
    now += 1;
  }
  const conntrack = listConnections(engine.conntrack.table, now);
  const text = packets.map(formatPacket).join("\n") + `\nconntrack (${conntrack.length} entries):\n${conntrack.map((l) => `  ${l}`).join("\n")}\n`;
  const json = { packets, conntrack };
  return { text, json, exitCode: 0 };
}

/** Every IPv4 packet of a capture through the engine; the survivors optionally to a new capture. */
function simulatePcap(engine: Netfilter, host: HostView, args: SimulateArgs): { text: string; json: unknown; exitCode: number } {
  const capture = readPcapFile(args.pcap!);
  if (capture.format === null) throw new SimulateUsageError(`cannot read ${args.pcap}: ${capture.error?.message ?? "not a capture file"}`);
  const writer = args.write !== null ? createPcapFileWriter(args.write) : null;
  const lines: string[] = [];
  const results: { index: number; input: string; verdict: string; output: string | null; reason: string | null; steps?: string[] }[] = [];
  let accepted = 0;
  let dropped = 0;
  let skipped = 0;
  try {
    for (const record of capture.records) {
      if (!("ipv4" in record) || !record.ipv4) {
        skipped++;
        continue;
      }
      const working = new Uint8Array(record.ipv4);
      const now = recordTimeMs(record);
      const input = describePacket(working, working.length);
      const steps: string[] = [];
      engine.tracer = args.verbose
        ? (event) => {
            const line = describeEvent(event);
            if (line) steps.push(line);
          }
        : null;
      const source = ((working[12]! << 24) | (working[13]! << 16) | (working[14]! << 8) | working[15]!) >>> 0;
      const result: PacketResult = args.fromHost
        ? engine.send(working, working.length, now)
        : engine.receive(working, working.length, args.inInterface ?? arrivalInterface(host, source), now);
      engine.tracer = null;
      const output = result.accepted ? describePacket(working, result.length) : null;
      if (result.accepted) {
        accepted++;
        writer?.write(working.subarray(0, result.length), now);
      } else {
        dropped++;
      }
      results.push({ index: record.index + 1, input, verdict: result.accepted ? "ACCEPT" : "DROP", output, reason: result.dropReason, ...(args.verbose ? { steps } : {}) });
      lines.push(`#${record.index + 1} ${input} => ${result.accepted ? `ACCEPT ${output}${result.outInterface ? ` out ${result.outInterface}` : " (local)"}` : `DROP (${result.dropReason})`}`);
      if (args.verbose) for (const step of steps) lines.push(`    ${step}`);
    }
  } finally {
    writer?.close();
  }
  const summary = `${accepted} accepted, ${dropped} dropped, ${skipped} not IPv4${capture.error ? `; the capture is damaged: ${capture.error.message}` : ""}`;
  return { text: `${lines.join("\n")}\n${summary}\n`, json: { packets: results, accepted, dropped, skipped, error: capture.error }, exitCode: 0 };
}

function droppedReplyNote(n: number): SimulatedPacket {
  return {
    label: `reply ${n}`,
    input: "(none: the packet before was dropped)",
    entered: "",
    steps: [],
    verdict: "DROP",
    path: "drop",
    outInterface: null,
    output: null,
    dropReason: null,
    replies: [],
    logs: [],
  };
}

function formatPacket(p: SimulatedPacket): string {
  const lines = [`${p.label}: ${p.input}${p.entered ? `, ${p.entered}` : ""}`];
  for (const step of p.steps) lines.push(`  ${step}`);
  for (const log of p.logs) lines.push(`  log: ${log}`);
  if (p.verdict === "ACCEPT") {
    const where = p.path === "input" ? "delivered locally" : `out ${p.outInterface}`;
    lines.push(`  => ACCEPT, ${where}: ${p.output}`);
  } else if (p.entered) {
    lines.push(`  => DROP${p.dropReason ? ` (${p.dropReason})` : ""}`);
  }
  for (const reply of p.replies) lines.push(`  answer sent: ${reply}`);
  return lines.join("\n");
}

export { CompileError, HostDescriptionError, PacketSpecError, NF_ACCEPT, NF_DROP };
