// -m udp: source and destination ports of UDP datagrams (iptables' libxt_udp, the kernel's xt_tcpudp).
import { ParameterProblem } from "../../rules/errors.ts";
import { IPPROTO_UDP } from "../../net/protocols.ts";
import { defineMatch } from "../extension.ts";
import { ANY_PORT, joinParts, printPortRange, resolveServicePort, savePortRange, type PortRange } from "./ports.ts";

export interface UdpMatch {
  sourcePorts: PortRange;
  sourceInverted: boolean;
  destinationPorts: PortRange;
  destinationInverted: boolean;
}

/**
 * "PORT", "MIN:MAX", "MIN:", ":MAX" or ":" as libxtables' XTTYPE_PORTRC reads them: each part is
 * resolved by getaddrinfo (so any service name, of tcp or udp, is taken), an empty part keeps its
 * default (0 or 65535), and a lone port is a range of one.
 */
function parseUdpPortRange(text: string, option: string): PortRange {
  const parts = text.split(":");
  const bounds = [ANY_PORT.min, ANY_PORT.max];
  parts.forEach((part, i) => {
    if (i === 2) throw new ParameterProblem(`udp: Too many components for option "--${option}" (max: 2)\n`);
    if (part === "") return;
    const port = resolveServicePort(part);
    if (port === null) throw new ParameterProblem(`Port "${part}" does not resolve to anything.\n`);
    bounds[i] = port;
  });
  const [min, max] = parts.length === 1 ? [bounds[0]!, bounds[0]!] : [bounds[0]!, bounds[1]!];
  // iptables 1.8.9 stores a reversed range (a rule that never matches); the iptables .t tests,
  // written for later releases, want it refused as tcp refuses it.
  if (min > max) throw new ParameterProblem("invalid portrange (min > max)");
  return { min, max };
}

export const udpMatch = defineMatch<UdpMatch>({
  name: "udp",
  requiredProtocol: IPPROTO_UDP,
  requiresProtocolMessage: "UDP match requires '-p udp'",
  options: [
    { name: "source-port", aliases: ["sport"], hasArg: true, invertible: true },
    { name: "destination-port", aliases: ["dport"], hasArg: true, invertible: true },
  ],
  init: () => ({
    sourcePorts: ANY_PORT,
    sourceInverted: false,
    destinationPorts: ANY_PORT,
    destinationInverted: false,
  }),
  parse(data, option, arg, inverted) {
    const ports = parseUdpPortRange(arg!, option);
    if (option === "source-port") {
      data.sourcePorts = ports;
      data.sourceInverted = inverted;
    } else {
      data.destinationPorts = ports;
      data.destinationInverted = inverted;
    }
  },
  compile(data) {
    const spMin = data.sourcePorts.min, spMax = data.sourcePorts.max, sourceInverted = data.sourceInverted;
    const dpMin = data.destinationPorts.min, dpMax = data.destinationPorts.max, destinationInverted = data.destinationInverted;
    return (ctx) => {
      // As xt_tcpudp's udp_mt: a non-first fragment has no UDP header, so it never matches (not
      // even an inverted port). A header too short to read is dropped before any rule here
      // ("transport-header"), where the kernel hot-drops it when a udp match looks.
      if (ctx.isLaterFragment) return false;
      if (!ctx.hasPortHeader) {
        // Not even the 8-byte header to examine: the kernel drops the packet (hotdrop).
        ctx.hotdrop = true;
        return false;
      }
      const sport = ctx.sourcePort;
      if ((sport >= spMin && sport <= spMax) === sourceInverted) return false;
      const dport = ctx.destinationPort;
      return (dport >= dpMin && dport <= dpMax) !== destinationInverted;
    };
  },
  save: (data) =>
    joinParts([
      savePortRange("sport", data.sourcePorts, data.sourceInverted),
      savePortRange("dport", data.destinationPorts, data.destinationInverted),
    ]),
  print: (data, { numeric }) =>
    joinParts([
      "udp",
      printPortRange("spt", data.sourcePorts, data.sourceInverted, "udp", numeric),
      printPortRange("dpt", data.destinationPorts, data.destinationInverted, "udp", numeric),
    ]),
});
