// -j CHECKSUM --checksum-fill: compute the checksum of packets that still lack one (libxt_CHECKSUM,
// xt_CHECKSUM), for old DHCP clients behind virtual bridges. Mangle table only.
import { ParameterProblem } from "../../rules/errors.ts";
import { defineTarget, type TargetFunction } from "../extension.ts";
import { XT_CONTINUE } from "../../engine/verdict.ts";
import { IPPROTO_TCP, IPPROTO_UDP } from "../../net/protocols.ts";

/** XT_CHECKSUM_OP_FILL, the only operation. */
export const XT_CHECKSUM_OP_FILL = 0x01;

/** struct xt_CHECKSUM_info. */
export interface ChecksumTarget {
  operation: number;
}

export const checksumTarget = defineTarget<ChecksumTarget>({
  name: "CHECKSUM",
  options: [{ name: "checksum-fill", hasArg: false }],
  init: () => ({ operation: 0 }),
  parse(data) {
    data.operation |= XT_CHECKSUM_OP_FILL;
  },
  finalCheck(data) {
    if (data.operation === 0) throw new ParameterProblem(`CHECKSUM: option "--checksum-fill" must be specified\n`);
  },
  /**
   * xt_CHECKSUM completes the checksum of a packet whose checksum was left to offload
   * (CHECKSUM_PARTIAL, as a guest's virtio-net or a veth hands them over). uptables cannot tell such a
   * packet from one that arrived with its checksum, so it recomputes the TCP or UDP checksum of every
   * packet the rule reaches, from the pseudo-header and all the bytes (UDP's over its length field; a
   * UDP checksum of 0 is filled too, as a partial one would be). Fragments are left alone: a partial
   * checksum is completed before fragmentation, and a fragment has not all the bytes it covers. Other
   * protocols are left alone (offload fills only TCP and UDP here).
   */
  compile(): TargetFunction {
    return (ctx) => {
      if (!ctx.hasTransport || ctx.isLaterFragment || ctx.ip.moreFragments) return XT_CONTINUE;
      if (ctx.protocol === IPPROTO_TCP) ctx.tcp.fillChecksum(ctx.ip.source, ctx.ip.destination);
      else if (ctx.protocol === IPPROTO_UDP) ctx.udp.fillChecksum(ctx.ip.source, ctx.ip.destination);
      return XT_CONTINUE;
    };
  },
  save: (data) => (data.operation & XT_CHECKSUM_OP_FILL ? "--checksum-fill" : ""),
  print: (data) => (data.operation & XT_CHECKSUM_OP_FILL ? "CHECKSUM fill" : "CHECKSUM"),
  tables: ["mangle"],
});
