// `conntrack -L` lines, in conntrack-tools' format:
// tcp      6 117 ESTABLISHED src=10.0.0.1 dst=10.0.0.2 sport=1234 dport=80 src=10.0.0.2 dst=10.0.0.1 sport=80 dport=1234 [ASSURED] mark=0 use=1
import { formatAddress } from "../net/ipv4-address.ts";
import { IPPROTO_ICMP, IPPROTO_TCP, protocolName } from "../net/protocols.ts";
import { CtStatus, TCP_STATE_NAMES } from "./states.ts";
import type { ConntrackTable } from "./table.ts";

function tupleText(table: ConntrackTable, node: number, protocol: number): string {
  const src = formatAddress(table.tupleSrc(node));
  const dst = formatAddress(table.tupleDst(node));
  const ports = table.tuplePorts(node);
  if (protocol === IPPROTO_ICMP) {
    return `src=${src} dst=${dst} type=${(ports >>> 8) & 0xff} code=${ports & 0xff} id=${ports >>> 16} `;
  }
  if (protocol === 6 || protocol === 17 || protocol === 132 || protocol === 33 || protocol === 136) {
    return `src=${src} dst=${dst} sport=${ports >>> 16} dport=${ports & 0xffff} `;
  }
  return `src=${src} dst=${dst} `;
}

/** One connection as `conntrack -L` prints it; `now` in the table's clock (ms). */
export function formatConnection(table: ConntrackTable, id: number, now: number): string {
  return `${connectionText(table, id, now)} mark=${table.mark(id)} use=1`;
}

/** A connection's protocol, timeout, state, tuples and flags: what `-L` lines and `-E` events share. */
export function connectionText(table: ConntrackTable, id: number, now: number): string {
  const protocol = table.protocol(id);
  const name = protocol === 0 ? "unknown" : (protocolName(protocol) ?? "unknown");
  const seconds = Math.max(0, Math.floor((table.expires(id) - now) / 1000));
  const status = table.status(id);
  let line = `${name.padEnd(8)} ${protocol} ${seconds} `;
  if (protocol === IPPROTO_TCP) line += `${TCP_STATE_NAMES[table.tcpState(id)] ?? "NONE"} `;
  line += tupleText(table, id * 2, protocol);
  if ((status & CtStatus.SEEN_REPLY) === 0) line += "[UNREPLIED] ";
  line += tupleText(table, id * 2 + 1, protocol);
  if (status & CtStatus.ASSURED) line += "[ASSURED] ";
  return line.trimEnd();
}

/** Every confirmed connection, one line each, as `conntrack -L` lists them. */
export function listConnections(table: ConntrackTable, now: number): string[] {
  const lines: string[] = [];
  for (const id of table.confirmedIds()) {
    if (table.expires(id) > now) lines.push(formatConnection(table, id, now));
  }
  return lines;
}

/** conntrack's closing line on stderr. */
export function shownSummary(count: number): string {
  return `conntrack v1.4.7 (conntrack-tools): ${count} flow entries have been shown.`;
}
