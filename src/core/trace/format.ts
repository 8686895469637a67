// Trace records as lines. PACKET and TRACE lines have the shapes `xtables-monitor --trace` prints
// for the kernel (iptables-nft 1.8.9; "2" is the family, NFPROTO_IPV4; no MAC fields, since packets
// reach uptables through TUN devices):
//
//   PACKET: 2 1f2e3d4c IN=eth0 SRC=192.168.0.50 DST=192.168.0.100 LEN=60 TOS=0x0 TTL=64 ID=1 DF SPORT=40000 DPORT=8080 SYN
//    TRACE: 2 1f2e3d4c nat:PREROUTING:rule:0x1:JUMP:DOCKER  -4 -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
//    TRACE: 2 1f2e3d4c filter:FORWARD:policy:DROP
//
// The number after `rule:` is the rule's position in its chain (the kernel's tool prints the
// nftables rule handle there). test/differential/trace.test.ts compares these lines with the real
// tool's for the same packet and rules. uptables adds lines the kernel's tool cannot print:
//
//    TRACE: 2 <id> filter:EMPTY:return:      a user chain ran out of rules (this kernel says nothing)
//    CONNTRACK: 2 <id> PREROUTING state=NEW direction=ORIGINAL connection=3
//    NAT: 2 <id> PREROUTING DNAT 192.168.0.100:8080 -> 172.17.0.2:80   (" reply" after DNAT/SNAT: a reply un-NATed)
//    ROUTE: 2 <id> forward OUT=docker0
//    VERDICT: 2 <id> ACCEPT forward OUT=docker0     VERDICT: 2 <id> DROP FORWARD reason=policy
import type { PacketRecord, TraceRecord } from "./record.ts";

const FAMILY = 2;

function packetLine(r: PacketRecord): string {
  let line = `PACKET: ${FAMILY} ${r.id} `;
  if (r.in !== null) line += `IN=${r.in} `;
  if (r.out !== null) line += `OUT=${r.out} `;
  line += `SRC=${r.src} DST=${r.dst} LEN=${r.len} TOS=0x${r.tos.toString(16).toUpperCase()} TTL=${r.ttl} ID=${r.ipId} `;
  if (r.df) line += "DF ";
  if (r.mf) line += "MF ";
  if (r.sport !== undefined) line += `SPORT=${r.sport} DPORT=${r.dport} `;
  else if (r.icmpType !== undefined) line += `TYPE=${r.icmpType} CODE=${r.icmpCode} `;
  else if (r.protocol !== 6 && r.protocol !== 17 && r.protocol !== 1) line += `PROTO=${r.protocol} `;
  for (const flag of r.tcpFlags ?? []) line += `${flag} `;
  return line;
}

/** One record as the line `uptables trace` prints (no newline). */
export function formatTraceRecord(r: TraceRecord): string {
  switch (r.type) {
    case "packet":
      return packetLine(r);
    case "rule":
      return ` TRACE: ${FAMILY} ${r.id} ${r.table}:${r.chain}:rule:0x${r.number.toString(16)}:${r.verdict}  ${r.rule}`;
    case "policy":
      return ` TRACE: ${FAMILY} ${r.id} ${r.table}:${r.chain}:policy:${r.verdict} `;
    case "return":
      return ` TRACE: ${FAMILY} ${r.id} ${r.table}:${r.chain}:return: `;
    case "conntrack":
      return ` CONNTRACK: ${FAMILY} ${r.id} ${r.hook} state=${r.state} direction=${r.direction} connection=${r.connection}`;
    case "nat":
      return ` NAT: ${FAMILY} ${r.id} ${r.hook} ${r.manip}${r.reply ? " reply" : ""} ${r.from} -> ${r.to}`;
    case "route":
      return ` ROUTE: ${FAMILY} ${r.id} ${r.decision}${r.out !== null ? ` OUT=${r.out}` : ""}`;
    case "verdict":
      if (r.verdict === "ACCEPT") return ` VERDICT: ${FAMILY} ${r.id} ACCEPT ${r.path}${r.out !== null ? ` OUT=${r.out}` : ""}`;
      return ` VERDICT: ${FAMILY} ${r.id} DROP ${r.hook ?? "receive"} reason=${r.reason}`;
    case "dropped":
      return `uptables trace: ${r.count} trace events dropped (the reader was too slow)`;
  }
}
