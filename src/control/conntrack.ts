// `uptables conntrack`: conntrack-tools' -L / -D / -F on the daemon's connection table, with the
// basic filters (-p, -s, -d, --sport, --dport; -r/-q for the reply direction). Lines as
// listing.ts formats them, conntrack-tools' closing line on stderr.
import { formatConnection } from "../core/conntrack/listing.ts";
import { CONNTRACK_EVENT_TYPES, type ConntrackEventType } from "../core/conntrack/events.ts";
import type { ConntrackTable } from "../core/conntrack/table.ts";
import { parseDottedQuad } from "../core/net/ipv4-address.ts";
import { parseProtocol } from "../core/net/protocols.ts";
import type { ControlReply } from "./protocol.ts";

const TAG = "conntrack v1.4.7 (conntrack-tools): ";

export const CONNTRACK_USAGE = `Usage: uptables conntrack [commands] [options]

Commands (on the connection table of this network namespace's uptables daemon):
  -L, --dump      list the connections
  -D, --delete    delete the connections that match the filters
  -F, --flush     delete every connection
  -E, --event     show connection events as they happen, until Ctrl-C ([NEW], [UPDATE], [DESTROY])

Filters:
  -p, --proto PROTO                  layer 4 protocol (tcp, udp, icmp or a number)
  -s, --src, --orig-src ADDR         original source address
  -d, --dst, --orig-dst ADDR         original destination address
  -r, --reply-src ADDR               reply source address
  -q, --reply-dst ADDR               reply destination address
  --sport, --orig-port-src PORT      original source port
  --dport, --orig-port-dst PORT      original destination port
  -e, --event-mask NEW,UPDATE,DESTROY    with -E: the events to show (default ALL)
`;

export interface Filter {
  protocol?: number;
  origSrc?: number;
  origDst?: number;
  replySrc?: number;
  replyDst?: number;
  sport?: number;
  dport?: number;
}

type Command = "list" | "delete" | "flush" | "events";

export class ConntrackUsage extends Error {}

export function parseArgs(args: readonly string[]): { command: Command | "help"; filter: Filter; eventMask: readonly ConntrackEventType[] } {
  let command: Command | "help" | null = null;
  const filter: Filter = {};
  let eventMask: readonly ConntrackEventType[] = CONNTRACK_EVENT_TYPES;
  const setCommand = (c: Command | "help"): void => {
    if (command !== null && command !== c) throw new ConntrackUsage("Invalid parameters: only one command at a time");
    command = c;
  };
  for (let i = 0; i < args.length; i++) {
    const word = args[i]!;
    const eq = word.startsWith("--") ? word.indexOf("=") : -1;
    const flag = eq > 0 ? word.slice(0, eq) : word;
    const value = (): string => {
      const v = eq > 0 ? word.slice(eq + 1) : args[++i];
      if (v === undefined) throw new ConntrackUsage(`option \`${flag}' requires an argument`);
      return v;
    };
    const address = (): number => {
      const text = value();
      const addr = parseDottedQuad(text);
      if (addr === null) throw new ConntrackUsage(`Bad IP address \`${text}'`);
      return addr;
    };
    const port = (): number => {
      const text = value();
      if (!/^\d+$/.test(text) || Number(text) > 65535) throw new ConntrackUsage(`Bad port \`${text}'`);
      return Number(text);
    };
    switch (flag) {
      case "-L":
      case "--dump":
        setCommand("list");
        break;
      case "-D":
      case "--delete":
        setCommand("delete");
        break;
      case "-F":
      case "--flush":
        setCommand("flush");
        break;
      case "-E":
      case "--event":
        setCommand("events");
        break;
      case "-e":
      case "--event-mask":
        eventMask = parseEventMask(value());
        break;
      case "-h":
      case "--help":
        setCommand("help");
        break;
      case "-p":
      case "--proto": {
        const text = value();
        const proto = parseProtocol(text);
        if (proto === null || proto === 0) throw new ConntrackUsage(`unknown protocol \`${text}'`);
        filter.protocol = proto;
        break;
      }
      case "-s":
      case "--src":
      case "--orig-src":
        filter.origSrc = address();
        break;
      case "-d":
      case "--dst":
      case "--orig-dst":
        filter.origDst = address();
        break;
      case "-r":
      case "--reply-src":
        filter.replySrc = address();
        break;
      case "-q":
      case "--reply-dst":
        filter.replyDst = address();
        break;
      case "--sport":
      case "--orig-port-src":
        filter.sport = port();
        break;
      case "--dport":
      case "--orig-port-dst":
        filter.dport = port();
        break;
      default:
        throw new ConntrackUsage(`unknown option \`${word}'`);
    }
  }
  if (command === null) throw new ConntrackUsage("no command specified");
  if ((filter.sport !== undefined || filter.dport !== undefined) && filter.protocol === undefined) {
    throw new ConntrackUsage("missing protocol (-p) for --sport/--dport");
  }
  return { command, filter, eventMask };
}

/** -e NEW,UPDATE,DESTROY (or ALL), in any case, as conntrack-tools takes it. */
function parseEventMask(text: string): ConntrackEventType[] {
  const types = new Set<ConntrackEventType>();
  for (const word of text.split(",")) {
    const upper = word.trim().toUpperCase();
    if (upper === "ALL") CONNTRACK_EVENT_TYPES.forEach((t) => types.add(t));
    else if ((CONNTRACK_EVENT_TYPES as readonly string[]).includes(upper)) types.add(upper as ConntrackEventType);
    else throw new ConntrackUsage(`unknown event type \`${word}'`);
  }
  return CONNTRACK_EVENT_TYPES.filter((t) => types.has(t));
}

export function matches(table: ConntrackTable, id: number, f: Filter): boolean {
  if (f.protocol !== undefined && table.protocol(id) !== f.protocol) return false;
  const orig = id * 2;
  const reply = id * 2 + 1;
  if (f.origSrc !== undefined && table.tupleSrc(orig) !== f.origSrc) return false;
  if (f.origDst !== undefined && table.tupleDst(orig) !== f.origDst) return false;
  if (f.replySrc !== undefined && table.tupleSrc(reply) !== f.replySrc) return false;
  if (f.replyDst !== undefined && table.tupleDst(reply) !== f.replyDst) return false;
  const ports = table.tuplePorts(orig);
  if (f.sport !== undefined && ports >>> 16 !== f.sport) return false;
  if (f.dport !== undefined && (ports & 0xffff) !== f.dport) return false;
  return true;
}

/** The live connections that match, in id order. */
function selected(table: ConntrackTable, filter: Filter, now: number): number[] {
  const ids: number[] = [];
  for (const id of table.confirmedIds()) if (table.expires(id) > now && matches(table, id, filter)) ids.push(id);
  return ids;
}

export function runConntrack(table: ConntrackTable, args: readonly string[], now: number): ControlReply {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs(args);
  } catch (error) {
    if (!(error instanceof ConntrackUsage)) throw error;
    return { stdout: "", stderr: `${TAG}${error.message}\nTry \`conntrack -h' or 'conntrack --help' for more information.\n`, exitCode: 2 };
  }
  const { command, filter } = parsed;
  switch (command) {
    case "help":
      return { stdout: CONNTRACK_USAGE, stderr: "", exitCode: 0 };
    case "list": {
      const ids = selected(table, filter, now);
      const stdout = ids.map((id) => `${formatConnection(table, id, now)}\n`).join("");
      return { stdout, stderr: `${TAG}${ids.length} flow entries have been shown.\n`, exitCode: 0 };
    }
    case "delete": {
      const ids = selected(table, filter, now);
      const stdout = ids.map((id) => `${formatConnection(table, id, now)}\n`).join("");
      for (const id of ids) table.remove(id);
      // conntrack-tools exits 1 when a delete found nothing.
      return { stdout, stderr: `${TAG}${ids.length} flow entries have been deleted.\n`, exitCode: ids.length === 0 ? 1 : 0 };
    }
    case "events":
      // Events stream over their own connection (watch.ts); a one-shot request cannot carry them.
      return { stdout: "", stderr: `${TAG}-E streams events: run \`uptables conntrack -E'\n`, exitCode: 2 };
    case "flush":
      table.flush();
      return { stdout: "", stderr: `${TAG}connection tracking table has been emptied.\n`, exitCode: 0 };
  }
}
