// `uptables trace`'s command line: which live packets to follow. The filter is tested once per
// packet, as it arrives (before any NAT), with iptables' own words and `!` where iptables allows it.
//
//   uptables trace [-p PROTO] [-s ADDR[/MASK]] [-d ADDR[/MASK]] [--sport P] [--dport P] [--port P]
//                  [-i IFACE] [--json] [-c N]
import { parseAddressWithMask } from "../net/ipv4-address.ts";
import { parseProtocol } from "../net/protocols.ts";
import type { PacketContext } from "../engine/packet-context.ts";

interface Negatable<T> {
  readonly value: T;
  readonly inverted: boolean;
}

export interface TraceFilter {
  protocol?: Negatable<number>;
  source?: Negatable<{ addr: number; mask: number }>;
  destination?: Negatable<{ addr: number; mask: number }>;
  sourcePort?: Negatable<number>;
  destinationPort?: Negatable<number>;
  /** Either end's port (source or destination). */
  port?: Negatable<number>;
  /** In interface; a trailing `+` is a prefix, as in iptables' -i. */
  inInterface?: Negatable<string>;
}

export interface TraceCommand {
  filter: TraceFilter;
  /** No filter option given: follow only packets a `-j TRACE` rule marks (as xtables-monitor --trace). */
  traceMarkedOnly: boolean;
  json: boolean;
  /** Stop after this many packets; null: until Ctrl-C. */
  count: number | null;
  help: boolean;
}

export class TraceUsageError extends Error {}

export const TRACE_USAGE = `Usage: uptables trace [filters] [--json] [-c N]

Follows live packets through the uptables daemon of this network namespace and prints each one's
walk through hooks, tables, chains and rules, as \`xtables-monitor --trace\` does for the kernel.
Without filters only packets marked by a \`-j TRACE\` rule (raw table) are shown; with filters, the
packets that match them, marked or not.

Filters (tested when the packet arrives, before NAT; \`!\` before an option negates it):
  -p, --protocol PROTO          tcp, udp, icmp, a name of /etc/protocols or a number
  -s, --source ADDR[/MASK]      source address
  -d, --destination ADDR[/MASK] destination address
  --sport, --source-port PORT   source port (needs -p tcp or udp)
  --dport, --destination-port PORT   destination port (needs -p tcp or udp)
  --port PORT                   either end's port
  -i, --in-interface IFACE      interface it arrived on (IFACE+ for a prefix; OUTPUT packets have none)

Output:
  --json                        one JSON object a line instead of xtables-monitor's lines
  -c, --count N                 stop after N packets
`;

const PORT_PROTOCOLS = new Set([6, 17, 132, 33, 136]);

function portNumber(text: string, flag: string): number {
  if (!/^\d+$/.test(text) || Number(text) > 65535) throw new TraceUsageError(`invalid port "${text}" for ${flag}`);
  return Number(text);
}

/** Parses the words after `uptables trace`; throws TraceUsageError in iptables-like words. */
export function parseTraceCommand(args: readonly string[]): TraceCommand {
  const filter: TraceFilter = {};
  const command: TraceCommand = { filter, traceMarkedOnly: true, json: false, count: null, help: false };
  let invert = false;
  for (let i = 0; i < args.length; i++) {
    const word = args[i]!;
    if (word === "!") {
      if (invert) throw new TraceUsageError("multiple `!' flags not allowed");
      invert = true;
      continue;
    }
    const eq = word.startsWith("--") ? word.indexOf("=") : -1;
    const flag = eq > 0 ? word.slice(0, eq) : word;
    const value = (): string => {
      const v = eq > 0 ? word.slice(eq + 1) : args[++i];
      if (v === undefined || v === "") throw new TraceUsageError(`option "${flag}" requires an argument`);
      return v;
    };
    const negatable = <T>(v: T): Negatable<T> => {
      const result = { value: v, inverted: invert };
      invert = false;
      return result;
    };
    const once = (present: unknown): void => {
      if (present !== undefined) throw new TraceUsageError(`multiple ${flag} options given`);
    };
    const address = (): { addr: number; mask: number } => {
      const text = value();
      const parsed = parseAddressWithMask(text);
      if (parsed === "host") throw new TraceUsageError(`host/network \`${text.split("/")[0]}' not found`);
      if (parsed === "mask") throw new TraceUsageError(`invalid mask \`${text.slice(text.indexOf("/") + 1)}' specified`);
      return parsed;
    };
    const notNegatable = (): void => {
      if (invert) throw new TraceUsageError(`cannot have ! before ${flag}`);
    };
    switch (flag) {
      case "-p":
      case "--protocol": {
        once(filter.protocol);
        const text = value();
        const proto = parseProtocol(text);
        if (proto === null) throw new TraceUsageError(`unknown protocol "${text}" specified`);
        filter.protocol = negatable(proto);
        break;
      }
      case "-s":
      case "--source":
      case "--src":
        once(filter.source);
        filter.source = negatable(address());
        break;
      case "-d":
      case "--destination":
      case "--dst":
        once(filter.destination);
        filter.destination = negatable(address());
        break;
      case "--sport":
      case "--source-port":
        once(filter.sourcePort);
        filter.sourcePort = negatable(portNumber(value(), flag));
        break;
      case "--dport":
      case "--destination-port":
        once(filter.destinationPort);
        filter.destinationPort = negatable(portNumber(value(), flag));
        break;
      case "--port":
        once(filter.port);
        filter.port = negatable(portNumber(value(), flag));
        break;
      case "-i":
      case "--in-interface": {
        once(filter.inInterface);
        const name = value();
        if (name.length > 15) throw new TraceUsageError(`interface name \`${name}' must be shorter than 16 characters`);
        filter.inInterface = negatable(name);
        break;
      }
      case "--json":
        notNegatable();
        command.json = true;
        break;
      case "-c":
      case "--count": {
        notNegatable();
        const text = value();
        if (!/^\d+$/.test(text) || Number(text) < 1) throw new TraceUsageError(`invalid count "${text}" for ${flag} (a whole number, 1 or more)`);
        command.count = Number(text);
        break;
      }
      case "-h":
      case "--help":
        command.help = true;
        break;
      default:
        throw new TraceUsageError(`unknown option "${word}"`);
    }
  }
  if (invert) throw new TraceUsageError("`!' must be followed by an option");
  const p = filter.protocol;
  const needsPortProtocol = filter.sourcePort !== undefined || filter.destinationPort !== undefined;
  // As iptables: --sport/--dport belong to -p tcp/udp (--port alone also fits ICMP-free traffic).
  if (needsPortProtocol && (p === undefined || p.inverted || !PORT_PROTOCOLS.has(p.value))) {
    throw new TraceUsageError("--sport/--dport need -p tcp, udp, sctp, dccp or udplite");
  }
  command.traceMarkedOnly = Object.keys(filter).length === 0;
  return command;
}

function interfaceMatches(name: string | null, wanted: string): boolean {
  if (name === null) return false;
  return wanted.endsWith("+") ? name.startsWith(wanted.slice(0, -1)) : name === wanted;
}

/** Whether the packet in `ctx` (just loaded, before any hook) matches the filter. */
export function traceFilterMatches(f: TraceFilter, ctx: PacketContext): boolean {
  if (f.protocol && (ctx.protocol === f.protocol.value) === f.protocol.inverted) return false;
  if (f.source && (((ctx.source & f.source.value.mask) >>> 0) === f.source.value.addr) === f.source.inverted) return false;
  if (f.destination && (((ctx.destination & f.destination.value.mask) >>> 0) === f.destination.value.addr) === f.destination.inverted) return false;
  const ports = ctx.hasTransport && PORT_PROTOCOLS.has(ctx.protocol);
  if (f.sourcePort && (ports && ctx.sourcePort === f.sourcePort.value) === f.sourcePort.inverted) return false;
  if (f.destinationPort && (ports && ctx.destinationPort === f.destinationPort.value) === f.destinationPort.inverted) return false;
  if (f.port && (ports && (ctx.sourcePort === f.port.value || ctx.destinationPort === f.port.value)) === f.port.inverted) return false;
  if (f.inInterface && interfaceMatches(ctx.inInterface, f.inInterface.value) === f.inInterface.inverted) return false;
  return true;
}
