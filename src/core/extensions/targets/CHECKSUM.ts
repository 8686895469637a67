// -j CHECKSUM --checksum-fill: compute the checksum of packets that still lack one (libxt_CHECKSUM,
// xt_CHECKSUM), for old DHCP clients behind virtual bridges. Mangle table only.
import { ParameterProblem } from "../../rules/errors.ts";
import { defineTarget } from "../extension.ts";

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
  save: (data) => (data.operation & XT_CHECKSUM_OP_FILL ? "--checksum-fill" : ""),
  print: (data) => (data.operation & XT_CHECKSUM_OP_FILL ? "CHECKSUM fill" : "CHECKSUM"),
  tables: ["mangle"],
});
