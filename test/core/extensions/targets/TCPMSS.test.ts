// -j TCPMSS against what iptables 1.8.9 (nf_tables) printed for the same commands in a scratch
// network namespace: -p tcp required, clamping only from FORWARD, OUTPUT and POSTROUTING. With
// nf_tables the kernel does not ask for a --tcp-flags SYN match.
import { describe, expect, it } from "vitest";
import { XT_TCPMSS_CLAMP_PMTU, type TcpmssTarget } from "../../../../src/core/extensions/targets/TCPMSS.ts";
import { acceptedRows, appended, refusedRows, savedRules, targetData } from "./xt-cases.ts";

acceptedRows("TCPMSS accepted as iptables accepts it", [
  ["mangle", "FORWARD", ["-p","tcp","-m","tcp","--tcp-flags","SYN,RST","SYN","-j","TCPMSS","--clamp-mss-to-pmtu"], "-p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu", "TCPMSS     6    --  0.0.0.0/0            0.0.0.0/0            tcp flags:0x06/0x02 TCPMSS clamp to PMTU", "TCPMSS     tcp  --  anywhere             anywhere             tcp flags:SYN,RST/SYN TCPMSS clamp to PMTU"],
  ["filter", "FORWARD", ["-p","tcp","-m","tcp","--tcp-flags","FIN,SYN,RST","SYN","-j","TCPMSS","--clamp-mss-to-pmtu"], "-p tcp -m tcp --tcp-flags FIN,SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu", "TCPMSS     6    --  0.0.0.0/0            0.0.0.0/0            tcp flags:0x07/0x02 TCPMSS clamp to PMTU", "TCPMSS     tcp  --  anywhere             anywhere             tcp flags:FIN,SYN,RST/SYN TCPMSS clamp to PMTU"],
  ["mangle", "FORWARD", ["-p","tcp","-j","TCPMSS","--clamp-mss-to-pmtu"], "-p tcp -j TCPMSS --clamp-mss-to-pmtu", "TCPMSS     6    --  0.0.0.0/0            0.0.0.0/0            TCPMSS clamp to PMTU", "TCPMSS     tcp  --  anywhere             anywhere             TCPMSS clamp to PMTU"],
  ["mangle", "OUTPUT", ["-p","tcp","-j","TCPMSS","--clamp-mss-to-pmtu"], "-p tcp -j TCPMSS --clamp-mss-to-pmtu", "TCPMSS     6    --  0.0.0.0/0            0.0.0.0/0            TCPMSS clamp to PMTU", "TCPMSS     tcp  --  anywhere             anywhere             TCPMSS clamp to PMTU"],
  ["mangle", "POSTROUTING", ["-p","tcp","-j","TCPMSS","--clamp-mss-to-pmtu"], "-p tcp -j TCPMSS --clamp-mss-to-pmtu", "TCPMSS     6    --  0.0.0.0/0            0.0.0.0/0            TCPMSS clamp to PMTU", "TCPMSS     tcp  --  anywhere             anywhere             TCPMSS clamp to PMTU"],
  ["filter", "OUTPUT", ["-p","tcp","-j","TCPMSS","--clamp"], "-p tcp -j TCPMSS --clamp-mss-to-pmtu", "TCPMSS     6    --  0.0.0.0/0            0.0.0.0/0            TCPMSS clamp to PMTU", "TCPMSS     tcp  --  anywhere             anywhere             TCPMSS clamp to PMTU"],
  ["nat", "OUTPUT", ["-p","tcp","-j","TCPMSS","--clamp-mss-to-pmtu"], "-p tcp -j TCPMSS --clamp-mss-to-pmtu", "TCPMSS     6    --  0.0.0.0/0            0.0.0.0/0            TCPMSS clamp to PMTU", "TCPMSS     tcp  --  anywhere             anywhere             TCPMSS clamp to PMTU"],
  ["nat", "POSTROUTING", ["-p","tcp","-j","TCPMSS","--clamp-mss-to-pmtu"], "-p tcp -j TCPMSS --clamp-mss-to-pmtu", "TCPMSS     6    --  0.0.0.0/0            0.0.0.0/0            TCPMSS clamp to PMTU", "TCPMSS     tcp  --  anywhere             anywhere             TCPMSS clamp to PMTU"],
  ["mangle", "FORWARD", ["-p","tcp","-j","TCPMSS","--set-mss","1400"], "-p tcp -j TCPMSS --set-mss 1400", "TCPMSS     6    --  0.0.0.0/0            0.0.0.0/0            TCPMSS set 1400", "TCPMSS     tcp  --  anywhere             anywhere             TCPMSS set 1400"],
  ["mangle", "FORWARD", ["-p","tcp","-j","TCPMSS","--set-mss","0"], "-p tcp -j TCPMSS --set-mss 0", "TCPMSS     6    --  0.0.0.0/0            0.0.0.0/0            TCPMSS set 0", "TCPMSS     tcp  --  anywhere             anywhere             TCPMSS set 0"],
  ["mangle", "FORWARD", ["-p","tcp","-j","TCPMSS","--set-mss","65515"], "-p tcp -j TCPMSS --set-mss 65515", "TCPMSS     6    --  0.0.0.0/0            0.0.0.0/0            TCPMSS set 65515", "TCPMSS     tcp  --  anywhere             anywhere             TCPMSS set 65515"],
  ["mangle", "FORWARD", ["-p","tcp","-j","TCPMSS","--set-mss","0x10"], "-p tcp -j TCPMSS --set-mss 16", "TCPMSS     6    --  0.0.0.0/0            0.0.0.0/0            TCPMSS set 16", "TCPMSS     tcp  --  anywhere             anywhere             TCPMSS set 16"],
  ["mangle", "PREROUTING", ["-p","tcp","-j","TCPMSS","--set-mss","1000"], "-p tcp -j TCPMSS --set-mss 1000", "TCPMSS     6    --  0.0.0.0/0            0.0.0.0/0            TCPMSS set 1000", "TCPMSS     tcp  --  anywhere             anywhere             TCPMSS set 1000"],
  ["mangle", "INPUT", ["-p","tcp","-j","TCPMSS","--set-mss","1000"], "-p tcp -j TCPMSS --set-mss 1000", "TCPMSS     6    --  0.0.0.0/0            0.0.0.0/0            TCPMSS set 1000", "TCPMSS     tcp  --  anywhere             anywhere             TCPMSS set 1000"],
  ["filter", "INPUT", ["-p","tcp","-j","TCPMSS","--set-mss","536"], "-p tcp -j TCPMSS --set-mss 536", "TCPMSS     6    --  0.0.0.0/0            0.0.0.0/0            TCPMSS set 536", "TCPMSS     tcp  --  anywhere             anywhere             TCPMSS set 536"],
  ["nat", "PREROUTING", ["-p","tcp","-j","TCPMSS","--set-mss","1200"], "-p tcp -j TCPMSS --set-mss 1200", "TCPMSS     6    --  0.0.0.0/0            0.0.0.0/0            TCPMSS set 1200", "TCPMSS     tcp  --  anywhere             anywhere             TCPMSS set 1200"],
  ["raw", "PREROUTING", ["-p","tcp","-j","TCPMSS","--set-mss","100"], "-p tcp -j TCPMSS --set-mss 100", "TCPMSS     6    --  0.0.0.0/0            0.0.0.0/0            TCPMSS set 100", "TCPMSS     tcp  --  anywhere             anywhere             TCPMSS set 100"],
  ["mangle", "FORWARD", ["-p","tcp","-j","TCPMSS","--set-mss","1400","--clamp-mss-to-pmtu"], "-p tcp -j TCPMSS --clamp-mss-to-pmtu", "TCPMSS     6    --  0.0.0.0/0            0.0.0.0/0            TCPMSS clamp to PMTU", "TCPMSS     tcp  --  anywhere             anywhere             TCPMSS clamp to PMTU"],
  ["mangle", "FORWARD", ["-p","tcp","-j","TCPMSS","--clamp-mss-to-pmtu","--set-mss","1400"], "-p tcp -j TCPMSS --set-mss 1400", "TCPMSS     6    --  0.0.0.0/0            0.0.0.0/0            TCPMSS set 1400", "TCPMSS     tcp  --  anywhere             anywhere             TCPMSS set 1400"],
  ["mangle", "FORWARD", ["-j","TCPMSS","--clamp-mss-to-pmtu","-p","tcp"], "-p tcp -j TCPMSS --clamp-mss-to-pmtu", "TCPMSS     6    --  0.0.0.0/0            0.0.0.0/0            TCPMSS clamp to PMTU", "TCPMSS     tcp  --  anywhere             anywhere             TCPMSS clamp to PMTU"],
  ["raw", "OUTPUT", ["-p","tcp","-j","TCPMSS","--clamp-mss-to-pmtu"], "-p tcp -j TCPMSS --clamp-mss-to-pmtu", "TCPMSS     6    --  0.0.0.0/0            0.0.0.0/0            TCPMSS clamp to PMTU", "TCPMSS     tcp  --  anywhere             anywhere             TCPMSS clamp to PMTU"],
]);

refusedRows("TCPMSS refused as iptables refuses it", [
  ["mangle", "FORWARD", ["-p","tcp","-j","TCPMSS","--set-mss","65516"], "TCPMSS: bad value for option \"--set-mss\", or out of range (0-65515).\n\n", 2],
  ["mangle", "FORWARD", ["-p","tcp","-j","TCPMSS","--set-mss","65535"], "TCPMSS: bad value for option \"--set-mss\", or out of range (0-65515).\n\n", 2],
  ["mangle", "FORWARD", ["-p","tcp","-j","TCPMSS","--set-mss","-1"], "TCPMSS: bad value for option \"--set-mss\", or out of range (0-65515).\n\n", 2],
  ["mangle", "FORWARD", ["-p","tcp","-j","TCPMSS","--set-mss","x"], "TCPMSS: bad value for option \"--set-mss\", or out of range (0-65515).\n\n", 2],
  ["mangle", "FORWARD", ["-p","tcp","-j","TCPMSS"], "TCPMSS target: At least one parameter is required\n", 2],
  ["mangle", "FORWARD", ["-p","tcp","-j","TCPMSS","!","--set-mss","100"], "TCPMSS: option \"--set-mss\" cannot be inverted.\n\n", 2],
  ["mangle", "FORWARD", ["-p","tcp","-j","TCPMSS","--set-mss","100","--set-mss","200"], "TCPMSS: option \"--set-mss\" can only be used once.\n\n", 2],
  ["mangle", "FORWARD", ["-p","tcp","-j","TCPMSS","--clamp-mss-to-pmtu","--clamp-mss-to-pmtu"], "TCPMSS: option \"--clamp-mss-to-pmtu\" can only be used once.\n\n", 2],
  ["mangle", "FORWARD", ["-j","TCPMSS","--clamp-mss-to-pmtu"], " RULE_APPEND failed (Invalid argument): rule in chain FORWARD\n", 4],
  ["mangle", "FORWARD", ["!","-p","tcp","-j","TCPMSS","--clamp-mss-to-pmtu"], " RULE_APPEND failed (Invalid argument): rule in chain FORWARD\n", 4],
  ["mangle", "FORWARD", ["-p","udp","-j","TCPMSS","--set-mss","100"], " RULE_APPEND failed (Invalid argument): rule in chain FORWARD\n", 4],
  ["mangle", "PREROUTING", ["-p","tcp","-j","TCPMSS","--clamp-mss-to-pmtu"], " RULE_APPEND failed (Invalid argument): rule in chain PREROUTING\n", 4],
  ["mangle", "INPUT", ["-p","tcp","-j","TCPMSS","--clamp-mss-to-pmtu"], " RULE_APPEND failed (Invalid argument): rule in chain INPUT\n", 4],
  ["filter", "INPUT", ["-p","tcp","-j","TCPMSS","--clamp-mss-to-pmtu"], " RULE_APPEND failed (Invalid argument): rule in chain INPUT\n", 4],
  ["nat", "PREROUTING", ["-p","tcp","-j","TCPMSS","--clamp-mss-to-pmtu"], " RULE_APPEND failed (Invalid argument): rule in chain PREROUTING\n", 4],
]);

describe("TCPMSS data and chains", () => {
  it("keeps the MSS, with 0xffff for clamping", () => {
    const set = appended("mangle", "FORWARD", ["-p", "tcp", "-j", "TCPMSS", "--set-mss", "1400"]);
    expect(targetData<TcpmssTarget>(set, "mangle", "FORWARD").mss).toBe(1400);
    const clamp = appended("mangle", "FORWARD", ["-p", "tcp", "-j", "TCPMSS", "--clamp-mss-to-pmtu"]);
    expect(targetData<TcpmssTarget>(clamp, "mangle", "FORWARD").mss).toBe(XT_TCPMSS_CLAMP_PMTU);
  });

  it("accepts clamping in a user chain reached from FORWARD", () => {
    const rules = appended("mangle", "USR", ["-p", "tcp", "-j", "TCPMSS", "--clamp-mss-to-pmtu"], [["-N", "USR"], ["-A", "FORWARD", "-j", "USR"]]);
    expect(savedRules(rules, "mangle")).toEqual(["-A FORWARD -j USR", "-A USR -p tcp -j TCPMSS --clamp-mss-to-pmtu"]);
  });
});
