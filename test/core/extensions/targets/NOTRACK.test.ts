// -j NOTRACK against what iptables 1.8.9 (nf_tables) printed for the same commands in a scratch
// network namespace: CT --notrack under its old name, saved as NOTRACK, listed as target CT.
import { describe, expect, it } from "vitest";
import { XT_CT_NOTRACK, XT_CT_NOTRACK_ALIAS, type CtTarget } from "../../../../src/core/extensions/targets/CT.ts";
import { appended, listedRules, refusedRows, savedRules, targetData } from "./xt-cases.ts";

refusedRows("NOTRACK refused as iptables refuses it", [
  ["raw", "PREROUTING", ["-j","NOTRACK","--notrack"], "unknown option \"--notrack\"\n", 2],
  ["raw", "PREROUTING", ["-j","NOTRACK","--helper","ftp"], "unknown option \"--helper\"\n", 2],
  ["filter", "INPUT", ["-j","NOTRACK"], " RULE_APPEND failed (Invalid argument): rule in chain INPUT\n", 4],
  ["filter", "OUTPUT", ["-j","NOTRACK"], " RULE_APPEND failed (Invalid argument): rule in chain OUTPUT\n", 4],
  ["mangle", "PREROUTING", ["-j","NOTRACK"], " RULE_APPEND failed (Invalid argument): rule in chain PREROUTING\n", 4],
  ["mangle", "OUTPUT", ["-j","NOTRACK"], " RULE_APPEND failed (Invalid argument): rule in chain OUTPUT\n", 4],
  ["nat", "OUTPUT", ["-j","NOTRACK"], " RULE_APPEND failed (Invalid argument): rule in chain OUTPUT\n", 4],
]);

describe("NOTRACK accepted as iptables accepts it", () => {
  // [chain, arguments, iptables-save after "-A CHAIN ", the -L -n and -L lines after the target column]
  const cases: [string, string[], string, string, string][] = [
    ["PREROUTING", ["-j", "NOTRACK"], "-j NOTRACK", "0    --  0.0.0.0/0            0.0.0.0/0            NOTRACK", "all  --  anywhere             anywhere             NOTRACK"],
    ["OUTPUT", ["-j", "NOTRACK"], "-j NOTRACK", "0    --  0.0.0.0/0            0.0.0.0/0            NOTRACK", "all  --  anywhere             anywhere             NOTRACK"],
    ["OUTPUT", ["-p", "tcp", "-j", "NOTRACK"], "-p tcp -j NOTRACK", "6    --  0.0.0.0/0            0.0.0.0/0            NOTRACK", "tcp  --  anywhere             anywhere             NOTRACK"],
  ];
  for (const [chain, args, save, numericTail, tail] of cases) {
    it(`raw ${chain} ${args.join(" ")}`, () => {
      const rules = appended("raw", chain, args);
      expect(savedRules(rules, "raw")).toEqual([`-A ${chain} ${save}`]);
      // iptables lists the target as "CT     "; the core prints the extension's name in that column.
      expect(listedRules(rules, "raw", chain, true)[0]!.slice(11)).toBe(numericTail);
      expect(listedRules(rules, "raw", chain, false)[0]!.slice(11)).toBe(tail);
    });
  }

  it("is CT with the notrack flag and the alias flag", () => {
    const rules = appended("raw", "PREROUTING", ["-j", "NOTRACK"]);
    expect(targetData<CtTarget>(rules, "raw", "PREROUTING").flags).toBe(XT_CT_NOTRACK | XT_CT_NOTRACK_ALIAS);
  });

  // iptables-nft 1.8.9 prints "CT         0    --  0.0.0.0/0 ... NOTRACK": the target column shows the
  // real target's name (NOTRACK's realName).
  it("lists NOTRACK under target CT", () => {
    const rules = appended("raw", "PREROUTING", ["-j", "NOTRACK"]);
    expect(listedRules(rules, "raw", "PREROUTING", true)).toEqual([
      "CT         0    --  0.0.0.0/0            0.0.0.0/0            NOTRACK",
    ]);
  });
});
