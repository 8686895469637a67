// -j CHECKSUM against what iptables 1.8.9 (nf_tables) printed for the same commands in a scratch
// network namespace: mangle table only, --checksum-fill required.
import { describe, expect, it } from "vitest";
import { XT_CHECKSUM_OP_FILL, type ChecksumTarget } from "../../../../src/core/extensions/targets/CHECKSUM.ts";
import { acceptedRows, appended, refusedRows, targetData } from "./xt-cases.ts";

acceptedRows("CHECKSUM accepted as iptables accepts it", [
  ["mangle", "POSTROUTING", ["-j","CHECKSUM","--checksum-fill"], "-j CHECKSUM --checksum-fill", "CHECKSUM   0    --  0.0.0.0/0            0.0.0.0/0            CHECKSUM fill", "CHECKSUM   all  --  anywhere             anywhere             CHECKSUM fill"],
  ["mangle", "POSTROUTING", ["-o","virbr0","-p","udp","-m","udp","--dport","68","-j","CHECKSUM","--checksum-fill"], "-o virbr0 -p udp -m udp --dport 68 -j CHECKSUM --checksum-fill", "CHECKSUM   17   --  0.0.0.0/0            0.0.0.0/0            udp dpt:68 CHECKSUM fill", "CHECKSUM   udp  --  anywhere             anywhere             udp dpt:bootpc CHECKSUM fill"],
  ["mangle", "PREROUTING", ["-j","CHECKSUM","--checksum-fill"], "-j CHECKSUM --checksum-fill", "CHECKSUM   0    --  0.0.0.0/0            0.0.0.0/0            CHECKSUM fill", "CHECKSUM   all  --  anywhere             anywhere             CHECKSUM fill"],
  ["mangle", "INPUT", ["-j","CHECKSUM","--checksum-fill"], "-j CHECKSUM --checksum-fill", "CHECKSUM   0    --  0.0.0.0/0            0.0.0.0/0            CHECKSUM fill", "CHECKSUM   all  --  anywhere             anywhere             CHECKSUM fill"],
  ["mangle", "FORWARD", ["-j","CHECKSUM","--checksum"], "-j CHECKSUM --checksum-fill", "CHECKSUM   0    --  0.0.0.0/0            0.0.0.0/0            CHECKSUM fill", "CHECKSUM   all  --  anywhere             anywhere             CHECKSUM fill"],
  ["mangle", "OUTPUT", ["-p","udp","-j","CHECKSUM","--checksum-fill"], "-p udp -j CHECKSUM --checksum-fill", "CHECKSUM   17   --  0.0.0.0/0            0.0.0.0/0            CHECKSUM fill", "CHECKSUM   udp  --  anywhere             anywhere             CHECKSUM fill"],
]);

refusedRows("CHECKSUM refused as iptables refuses it", [
  ["mangle", "POSTROUTING", ["-j","CHECKSUM"], "CHECKSUM: option \"--checksum-fill\" must be specified\n\n", 2],
  ["mangle", "POSTROUTING", ["-p","udp","-j","CHECKSUM","--checksum-fill","--checksum-fill"], "CHECKSUM: option \"--checksum-fill\" can only be used once.\n\n", 2],
  ["mangle", "POSTROUTING", ["-j","CHECKSUM","!","--checksum-fill"], "CHECKSUM: option \"--checksum-fill\" cannot be inverted.\n\n", 2],
  ["filter", "OUTPUT", ["-j","CHECKSUM","--checksum-fill"], " RULE_APPEND failed (Invalid argument): rule in chain OUTPUT\n", 4],
  ["filter", "INPUT", ["-j","CHECKSUM","--checksum-fill"], " RULE_APPEND failed (Invalid argument): rule in chain INPUT\n", 4],
  ["nat", "POSTROUTING", ["-j","CHECKSUM","--checksum-fill"], " RULE_APPEND failed (Invalid argument): rule in chain POSTROUTING\n", 4],
  ["raw", "PREROUTING", ["-j","CHECKSUM","--checksum-fill"], " RULE_APPEND failed (Invalid argument): rule in chain PREROUTING\n", 4],
]);

describe("CHECKSUM data", () => {
  it("keeps the operation as xt_CHECKSUM_info does", () => {
    const rules = appended("mangle", "POSTROUTING", ["-j", "CHECKSUM", "--checksum-fill"]);
    expect(targetData<ChecksumTarget>(rules, "mangle", "POSTROUTING")).toEqual({ operation: XT_CHECKSUM_OP_FILL });
  });
});
