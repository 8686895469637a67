// -m multiport: up to 15 source and/or destination ports or port ranges at once
// (iptables' libxt_multiport revision 1, the kernel's xt_multiport).
import { ParameterProblem } from "../../rules/errors.ts";
import { defineMatch } from "../extension.ts";
import { parseXtablesPort, type PortRange } from "./ports.ts";
import { portName } from "../../net/services.ts";

type Direction = "source-ports" | "destination-ports" | "ports";

export interface MultiportMatch {
  direction: Direction;
  /** A range of one port is a single port; a real range takes two of the kernel's 15 slots. */
  ranges: PortRange[];
  inverted: boolean;
  /** The rule's protocol name, for the service names `iptables -L` prints. */
  protocol: string;
  /** The options given, in the order of iptables' table, for the final "cannot be used together" check. */
  given: Direction[];
}

/** XT_MULTI_PORTS: the kernel keeps 15 ports, a range counting as two. */
const MAX_PORTS = 15;

const PROTOCOLS: ReadonlyMap<number, string> = new Map([
  [6, "tcp"],
  [17, "udp"],
  [136, "udplite"],
  [132, "sctp"],
  [33, "dccp"],
]);

const DIRECTIONS: readonly Direction[] = ["source-ports", "destination-ports", "ports"];
const SAVE_NAME: Readonly<Record<Direction, string>> = { "source-ports": "sports", "destination-ports": "dports", ports: "ports" };

function protocolOf(protocol: number, inverted: boolean): string {
  const name = PROTOCOLS.get(protocol);
  if (inverted || (name === undefined && protocol !== 0)) {
    throw new ParameterProblem("multiport only works with TCP, UDP, UDPLITE, SCTP and DCCP");
  }
  if (name === undefined) throw new ParameterProblem("multiport needs `-p tcp', `-p udp', `-p udplite', `-p sctp' or `-p dccp'");
  return name;
}

function parsePort(text: string, protocol: string): number {
  const port = parseXtablesPort(text, protocol);
  if (port === null) throw new ParameterProblem(`invalid port/service \`${text}' specified`);
  return port;
}

/** "PORT[,PORT|,MIN:MAX...]", checked as iptables checks it while it fills the kernel's slots. */
function parsePortList(text: string, protocol: string): PortRange[] {
  const ranges: PortRange[] = [];
  let slots = 0;
  for (const item of text.split(",")) {
    const colon = item.indexOf(":");
    if (slots === MAX_PORTS || (colon >= 0 && slots === MAX_PORTS - 1)) throw new ParameterProblem("too many ports specified");
    const min = parsePort(colon < 0 ? item : item.slice(0, colon), protocol);
    if (colon < 0) {
      ranges.push({ min, max: min });
      slots += 1;
      continue;
    }
    const max = parsePort(item.slice(colon + 1), protocol);
    if (min >= max) throw new ParameterProblem("invalid portrange specified");
    ranges.push({ min, max });
    slots += 2;
  }
  return ranges;
}

function formatList(ranges: readonly PortRange[], name: (port: number) => string): string {
  return ranges.map((r) => (r.min === r.max ? name(r.min) : `${name(r.min)}:${name(r.max)}`)).join(",");
}

export const multiportMatch = defineMatch<MultiportMatch>({
  name: "multiport",
  options: [
    { name: "source-ports", aliases: ["sports"], hasArg: true, invertible: true },
    { name: "destination-ports", aliases: ["dports"], hasArg: true, invertible: true },
    { name: "ports", hasArg: true, invertible: true },
  ],
  init: () => ({ direction: "ports", ranges: [], inverted: false, protocol: "", given: [] }),
  parse(data, option, arg, inverted, ctx) {
    data.protocol = protocolOf(ctx.protocol, ctx.protocolInverted);
    data.ranges = parsePortList(arg!, data.protocol);
    data.direction = option as Direction;
    data.inverted = inverted;
    data.given = DIRECTIONS.filter((d) => d === option || data.given.includes(d));
  },
  finalCheck(data) {
    if (data.given.length === 0) throw new ParameterProblem("multiport expection an option");
    if (data.given.length > 1) {
      throw new ParameterProblem(`multiport: option "--${data.given[0]}" cannot be used together with "--${data.given[1]}".\n`);
    }
  },
  compile(data) {
    // xt_multiport's ports_match_v1: the first listed port or range that holds the port decides
    // (a hit gives !invert, no hit gives invert). --ports tests the source and the destination
    // port against each entry. Ranges are inclusive.
    const count = data.ranges.length;
    const mins = Int32Array.from(data.ranges, (r) => r.min);
    const maxs = Int32Array.from(data.ranges, (r) => r.max);
    const checkSource = data.direction !== "destination-ports";
    const checkDestination = data.direction !== "source-ports";
    const inverted = data.inverted;
    return (ctx) => {
      // A non-first fragment has no ports: no match, inverted or not.
      if (ctx.isLaterFragment) return false;
      // The kernel reads the first four bytes of the transport header as the two ports, for every
      // protocol multiport allows (tcp, udp, udplite, sctp, dccp), so do the same from the bytes.
      // It hot-drops a packet too short for them; here it is only no match (tcp and udp packets
      // that short never reach a rule: the engine drops them first).
      const at = ctx.transportOffset;
      if (at + 4 > ctx.ip.offset + ctx.ip.totalLength) return false;
      const buf = ctx.buf;
      const sport = (buf[at]! << 8) | buf[at + 1]!;
      const dport = (buf[at + 2]! << 8) | buf[at + 3]!;
      for (let i = 0; i < count; i++) {
        const min = mins[i]!, max = maxs[i]!;
        if ((checkSource && sport >= min && sport <= max) || (checkDestination && dport >= min && dport <= max)) return !inverted;
      }
      return inverted;
    };
  },
  save: (data) => `${data.inverted ? "! " : ""}--${SAVE_NAME[data.direction]} ${formatList(data.ranges, String)}`,
  print: (data, { numeric }) =>
    // iptables puts the "!" after a second space: "multiport dports  !80,443".
    `multiport ${SAVE_NAME[data.direction]} ${data.inverted ? " !" : ""}${formatList(data.ranges, (port) => portName(port, data.protocol, numeric))}`,
});
