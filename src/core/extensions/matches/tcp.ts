// -m tcp: ports, flags and options of TCP segments (iptables' libxt_tcp, the kernel's xt_tcpudp).
import { ParameterProblem } from "../../rules/errors.ts";
import { IPPROTO_TCP } from "../../net/protocols.ts";
import { defineMatch } from "../extension.ts";
import { ANY_PORT, joinParts, parsePortRange, printPortRange, savePortRange, type PortRange } from "./ports.ts";

export interface TcpMatch {
  sourcePorts: PortRange;
  sourceInverted: boolean;
  sourceGiven: boolean;
  destinationPorts: PortRange;
  destinationInverted: boolean;
  destinationGiven: boolean;
  /** --tcp-flags MASK COMP: (flags & mask) == comp. */
  flagMask: number;
  flagCompare: number;
  flagsInverted: boolean;
  flagsGiven: boolean;
  /** --tcp-option N: the segment carries option kind N. */
  option: number;
  optionInverted: boolean;
  optionGiven: boolean;
}

export const TCP_FLAGS: readonly (readonly [string, number])[] = [
  ["FIN", 0x01],
  ["SYN", 0x02],
  ["RST", 0x04],
  ["PSH", 0x08],
  ["ACK", 0x10],
  ["URG", 0x20],
  ["ECE", 0x40],
  ["CWR", 0x80],
];

function parseFlagList(text: string): number {
  let flags = 0;
  for (const name of text.split(",")) {
    const upper = name.toUpperCase();
    if (upper === "ALL") flags |= 0x3f;
    else if (upper === "NONE") continue;
    else {
      const found = TCP_FLAGS.find(([n]) => n === upper);
      if (!found) throw new ParameterProblem(`Unknown TCP flag \`${name}'`);
      flags |= found[1];
    }
  }
  return flags;
}

/** "FIN,SYN" / "NONE", as iptables prints a flag set. */
export function formatTcpFlags(flags: number): string {
  const names = TCP_FLAGS.filter(([, bit]) => (flags & bit) !== 0).map(([n]) => n);
  return names.length > 0 ? names.join(",") : "NONE";
}

const SYN_MASK = 0x01 | 0x02 | 0x04 | 0x10;

/** Whether the segment carries TCP option `kind` (walks the options as xt_tcpudp's tcp_find_option). */
function hasTcpOption(buf: Uint8Array, offset: number, kind: number): boolean {
  const headerLength = (buf[offset + 12]! >> 4) * 4;
  let i = offset + 20;
  const end = offset + headerLength;
  while (i < end) {
    const current = buf[i]!;
    if (current === kind) return true;
    if (current === 0) return false; // end of option list
    if (current === 1) {
      i++; // no-operation
      continue;
    }
    const length = buf[i + 1] ?? 0;
    if (length < 2) return false;
    i += length;
  }
  return false;
}

export const tcpMatch = defineMatch<TcpMatch>({
  name: "tcp",
  requiredProtocol: IPPROTO_TCP,
  requiresProtocolMessage: "TCP match requires '-p tcp'",
  options: [
    { name: "sport", aliases: ["source-port"], hasArg: true, invertible: true, repeatable: true },
    { name: "dport", aliases: ["destination-port"], hasArg: true, invertible: true, repeatable: true },
    { name: "syn", hasArg: false, invertible: true, repeatable: true },
    { name: "tcp-flags", hasArg: true, invertible: true, repeatable: true },
    { name: "tcp-option", hasArg: true, invertible: true, repeatable: true },
  ],
  init: () => ({
    sourcePorts: ANY_PORT,
    sourceInverted: false,
    sourceGiven: false,
    destinationPorts: ANY_PORT,
    destinationInverted: false,
    destinationGiven: false,
    flagMask: 0,
    flagCompare: 0,
    flagsInverted: false,
    flagsGiven: false,
    option: 0,
    optionInverted: false,
    optionGiven: false,
  }),
  parse(data, option, arg, inverted, ctx) {
    switch (option) {
      case "sport":
        if (data.sourceGiven) throw new ParameterProblem("Only one `--source-port' allowed");
        data.sourcePorts = parsePortRange(arg!, "tcp");
        data.sourceInverted = inverted;
        data.sourceGiven = true;
        return;
      case "dport":
        if (data.destinationGiven) throw new ParameterProblem("Only one `--destination-port' allowed");
        data.destinationPorts = parsePortRange(arg!, "tcp");
        data.destinationInverted = inverted;
        data.destinationGiven = true;
        return;
      case "syn":
        if (data.flagsGiven) throw new ParameterProblem("Only one of `--syn' or `--tcp-flags'  allowed");
        data.flagMask = SYN_MASK;
        data.flagCompare = 0x02;
        data.flagsInverted = inverted;
        data.flagsGiven = true;
        return;
      case "tcp-flags": {
        if (data.flagsGiven) throw new ParameterProblem("Only one of `--syn' or `--tcp-flags'  allowed");
        const compare = ctx.takeExtraArgument();
        if (compare === undefined) throw new ParameterProblem("--tcp-flags requires two args.");
        data.flagMask = parseFlagList(arg!);
        data.flagCompare = parseFlagList(compare);
        data.flagsInverted = inverted;
        data.flagsGiven = true;
        return;
      }
      case "tcp-option": {
        if (data.optionGiven) throw new ParameterProblem("Only one `--tcp-option' allowed");
        if (!/^[0-9]+$/.test(arg!) || Number(arg) > 255 || Number(arg) < 1) {
          throw new ParameterProblem(`Bad TCP option "${arg}"`);
        }
        data.option = Number(arg);
        data.optionInverted = inverted;
        data.optionGiven = true;
        return;
      }
    }
  },
  save(data) {
    return joinParts([
      savePortRange("sport", data.sourcePorts, data.sourceInverted),
      savePortRange("dport", data.destinationPorts, data.destinationInverted),
      data.option || data.optionInverted ? `${data.optionInverted ? "! " : ""}--tcp-option ${data.option}` : "",
      data.flagMask || data.flagsInverted
        ? `${data.flagsInverted ? "! " : ""}--tcp-flags ${formatTcpFlags(data.flagMask)} ${formatTcpFlags(data.flagCompare)}`
        : "",
    ]);
  },
  compile(data) {
    const { sourcePorts: sp, destinationPorts: dp, sourceInverted, destinationInverted, flagMask, flagCompare, flagsInverted } = data;
    const spMin = sp.min, spMax = sp.max, dpMin = dp.min, dpMax = dp.max;
    const option = data.optionGiven ? data.option : 0;
    const optionInverted = data.optionInverted;
    return (ctx) => {
      // Non-first fragments have no TCP header: no match (the kernel's xt_tcpudp does the same).
      if (ctx.isLaterFragment) return false;
      if (!ctx.hasPortHeader) {
        // Not even the 20-byte base header to examine: the kernel drops the packet (hotdrop).
        ctx.hotdrop = true;
        return false;
      }
      const sport = ctx.sourcePort;
      if ((sport >= spMin && sport <= spMax) === sourceInverted) return false;
      const dport = ctx.destinationPort;
      if ((dport >= dpMin && dport <= dpMax) === destinationInverted) return false;
      if (((ctx.tcpFlags & flagMask) === flagCompare) === flagsInverted) return false;
      if (option !== 0) {
        // Options cannot be read behind a bad data offset: hotdrop, as tcp_find_option does.
        if (!ctx.hasTransport) {
          ctx.hotdrop = true;
          return false;
        }
        if (hasTcpOption(ctx.buf, ctx.transportOffset, option) === optionInverted) return false;
      }
      return true;
    };
  },
  print(data, { numeric }) {
    const flags =
      data.flagMask || data.flagsInverted
        ? `flags:${data.flagsInverted ? "!" : ""}${
            numeric
              ? `0x${data.flagMask.toString(16).toUpperCase().padStart(2, "0")}/0x${data.flagCompare.toString(16).toUpperCase().padStart(2, "0")}`
              : `${formatTcpFlags(data.flagMask)}/${formatTcpFlags(data.flagCompare)}`
          }`
        : "";
    return joinParts([
      "tcp",
      printPortRange("spt", data.sourcePorts, data.sourceInverted, "tcp", numeric),
      printPortRange("dpt", data.destinationPorts, data.destinationInverted, "tcp", numeric),
      data.option || data.optionInverted ? `option=${data.optionInverted ? "!" : ""}${data.option}` : "",
      flags,
    ]);
  },
});
