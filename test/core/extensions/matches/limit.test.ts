// -m limit against iptables: rates and units, bursts, defaults, and the rate nftables keeps.
// Every expected string below is what iptables 1.8.9 (nf_tables) printed for the same command in a
// scratch network namespace: the iptables-save text, the `iptables -L` line with and without -n,
// and the refusals with their exit codes.
import { describe, expect, it } from "vitest";
import { appended, saved, listed, expectedRefusal } from "../../../support/extension-harness.ts";
import { RuleSet } from "../../../../src/core/rules/model.ts";
import { runIptables } from "../../../../src/core/iptables/run.ts";

describe("limit: accepted rules as iptables saves and lists them", () => {
  // [table, chain, arguments, iptables-save after "-A CHAIN ", -L -n line, -L line]
  const cases: [string, string, string[], string, string, string][] = [
    ["filter", "INPUT", ["-m", "limit"], "-m limit --limit 3/hour", "           0    --  0.0.0.0/0            0.0.0.0/0            limit: avg 3/hour burst 5", "           all  --  anywhere             anywhere             limit: avg 3/hour burst 5"],
    ["filter", "INPUT", ["-m", "limit", "--limit", "5/min"], "-m limit --limit 5/min", "           0    --  0.0.0.0/0            0.0.0.0/0            limit: avg 5/min burst 5", "           all  --  anywhere             anywhere             limit: avg 5/min burst 5"],
    ["filter", "INPUT", ["-m", "limit", "--limit", "5/min", "--limit-burst", "5"], "-m limit --limit 5/min", "           0    --  0.0.0.0/0            0.0.0.0/0            limit: avg 5/min burst 5", "           all  --  anywhere             anywhere             limit: avg 5/min burst 5"],
    ["filter", "INPUT", ["-m", "limit", "--limit", "5/min", "--limit-burst", "7"], "-m limit --limit 5/min --limit-burst 7", "           0    --  0.0.0.0/0            0.0.0.0/0            limit: avg 5/min burst 7", "           all  --  anywhere             anywhere             limit: avg 5/min burst 7"],
    ["filter", "INPUT", ["-m", "limit", "--limit-burst", "7"], "-m limit --limit 3/hour --limit-burst 7", "           0    --  0.0.0.0/0            0.0.0.0/0            limit: avg 3/hour burst 7", "           all  --  anywhere             anywhere             limit: avg 3/hour burst 7"],
    ["filter", "INPUT", ["-m", "limit", "--limit", "3/h"], "-m limit --limit 3/hour", "           0    --  0.0.0.0/0            0.0.0.0/0            limit: avg 3/hour burst 5", "           all  --  anywhere             anywhere             limit: avg 3/hour burst 5"],
    ["filter", "INPUT", ["-m", "limit", "--limit", "3/d"], "-m limit --limit 3/day", "           0    --  0.0.0.0/0            0.0.0.0/0            limit: avg 3/day burst 5", "           all  --  anywhere             anywhere             limit: avg 3/day burst 5"],
    ["filter", "INPUT", ["-m", "limit", "--limit", "3/second"], "-m limit --limit 3/sec", "           0    --  0.0.0.0/0            0.0.0.0/0            limit: avg 3/sec burst 5", "           all  --  anywhere             anywhere             limit: avg 3/sec burst 5"],
    ["filter", "INPUT", ["-m", "limit", "--limit", "3/m"], "-m limit --limit 3/min", "           0    --  0.0.0.0/0            0.0.0.0/0            limit: avg 3/min burst 5", "           all  --  anywhere             anywhere             limit: avg 3/min burst 5"],
    ["filter", "INPUT", ["-m", "limit", "--limit", "3"], "-m limit --limit 3/sec", "           0    --  0.0.0.0/0            0.0.0.0/0            limit: avg 3/sec burst 5", "           all  --  anywhere             anywhere             limit: avg 3/sec burst 5"],
    ["filter", "INPUT", ["-m", "limit", "--limit", "10000/s"], "-m limit --limit 10000/sec", "           0    --  0.0.0.0/0            0.0.0.0/0            limit: avg 10000/sec burst 5", "           all  --  anywhere             anywhere             limit: avg 10000/sec burst 5"],
    ["filter", "INPUT", ["-m", "limit", "--limit", "60/min"], "-m limit --limit 1/sec", "           0    --  0.0.0.0/0            0.0.0.0/0            limit: avg 1/sec burst 5", "           all  --  anywhere             anywhere             limit: avg 1/sec burst 5"],
    ["filter", "INPUT", ["-m", "limit", "--limit", "61/min"], "-m limit --limit 61/min", "           0    --  0.0.0.0/0            0.0.0.0/0            limit: avg 61/min burst 5", "           all  --  anywhere             anywhere             limit: avg 61/min burst 5"],
    ["filter", "INPUT", ["-m", "limit", "--limit", "24/d"], "-m limit --limit 1/hour", "           0    --  0.0.0.0/0            0.0.0.0/0            limit: avg 1/hour burst 5", "           all  --  anywhere             anywhere             limit: avg 1/hour burst 5"],
    ["filter", "INPUT", ["-m", "limit", "--limit", "86401/d"], "-m limit --limit 1/sec", "           0    --  0.0.0.0/0            0.0.0.0/0            limit: avg 1/sec burst 5", "           all  --  anywhere             anywhere             limit: avg 1/sec burst 5"],
    ["filter", "INPUT", ["-m", "limit", "--limit", "4294967297/s"], "-m limit --limit 1/sec", "           0    --  0.0.0.0/0            0.0.0.0/0            limit: avg 1/sec burst 5", "           all  --  anywhere             anywhere             limit: avg 1/sec burst 5"],
    ["filter", "INPUT", ["-m", "limit", "--limit", "5/MIN"], "-m limit --limit 5/min", "           0    --  0.0.0.0/0            0.0.0.0/0            limit: avg 5/min burst 5", "           all  --  anywhere             anywhere             limit: avg 5/min burst 5"],
    ["filter", "INPUT", ["-m", "limit", "--limit", "5/mi"], "-m limit --limit 5/min", "           0    --  0.0.0.0/0            0.0.0.0/0            limit: avg 5/min burst 5", "           all  --  anywhere             anywhere             limit: avg 5/min burst 5"],
    ["filter", "INPUT", ["-m", "limit", "--limit", " 7/s"], "-m limit --limit 7/sec", "           0    --  0.0.0.0/0            0.0.0.0/0            limit: avg 7/sec burst 5", "           all  --  anywhere             anywhere             limit: avg 7/sec burst 5"],
    ["filter", "INPUT", ["-m", "limit", "--limit", "7x/s"], "-m limit --limit 7/sec", "           0    --  0.0.0.0/0            0.0.0.0/0            limit: avg 7/sec burst 5", "           all  --  anywhere             anywhere             limit: avg 7/sec burst 5"],
    ["filter", "INPUT", ["-m", "limit", "--limit-burst", "0"], "-m limit --limit 3/hour", "           0    --  0.0.0.0/0            0.0.0.0/0            limit: avg 3/hour burst 5", "           all  --  anywhere             anywhere             limit: avg 3/hour burst 5"],
    ["filter", "INPUT", ["-m", "limit", "--limit-burst", "10000"], "-m limit --limit 3/hour --limit-burst 10000", "           0    --  0.0.0.0/0            0.0.0.0/0            limit: avg 3/hour burst 10000", "           all  --  anywhere             anywhere             limit: avg 3/hour burst 10000"],
    ["filter", "INPUT", ["-m", "limit", "--limit-burst", "0x10"], "-m limit --limit 3/hour --limit-burst 16", "           0    --  0.0.0.0/0            0.0.0.0/0            limit: avg 3/hour burst 16", "           all  --  anywhere             anywhere             limit: avg 3/hour burst 16"],
  ];
  for (const [table, chain, args, save, numeric, names] of cases) {
    it(`${table} ${chain} ${args.join(" ")}`, () => {
      const rules = appended(table, chain, args);
      expect(saved(rules, table)).toEqual([`-A ${chain} ${save}`]);
      expect(listed(rules, table, chain, "-n")).toEqual([numeric]);
      expect(listed(rules, table, chain)).toEqual([names]);
    });
  }
});

describe("limit: refusals", () => {
  // [table, chain, arguments, exit code, message]
  const cases: [string, string, string[], number, string][] = [
    ["filter", "INPUT", ["-m", "limit", "--limit", "3/x"], 2, "bad rate \"3/x\"'"],
    ["filter", "INPUT", ["-m", "limit", "--limit", "10001/s"], 2, "Rate too fast \"10001/s\""],
    ["filter", "INPUT", ["-m", "limit", "--limit", "0/s"], 2, "bad rate \"0/s\"'"],
    ["filter", "INPUT", ["-m", "limit", "--limit", "x/s"], 2, "bad rate \"x/s\"'"],
    ["filter", "INPUT", ["-m", "limit", "--limit", "5/"], 2, "bad rate \"5/\"'"],
    ["filter", "INPUT", ["-m", "limit", "--limit", "/s"], 2, "bad rate \"/s\"'"],
    ["filter", "INPUT", ["-m", "limit", "--limit", "0x10/s"], 2, "bad rate \"0x10/s\"'"],
    ["filter", "INPUT", ["-m", "limit", "--limit", "-1/s"], 2, "Rate too fast \"-1/s\""],
    ["filter", "INPUT", ["-m", "limit", "--limit", "4294967296/s"], 2, "bad rate \"4294967296/s\"'"],
    ["filter", "INPUT", ["-m", "limit", "--limit", "5/hours"], 2, "bad rate \"5/hours\"'"],
    ["filter", "INPUT", ["-m", "limit", "--limit-burst", "10001"], 2, "limit: bad value for option \"--limit-burst\", or out of range (0-10000).\n"],
    ["filter", "INPUT", ["-m", "limit", "--limit-burst", "-1"], 2, "limit: bad value for option \"--limit-burst\", or out of range (0-10000).\n"],
    ["filter", "INPUT", ["-m", "limit", "--limit-burst", "x"], 2, "limit: bad value for option \"--limit-burst\", or out of range (0-10000).\n"],
    ["filter", "INPUT", ["-m", "limit", "--limit", "5/s", "--limit", "6/s"], 2, "limit: option \"--limit\" can only be used once.\n"],
    ["filter", "INPUT", ["-m", "limit", "!", "--limit", "5/s"], 2, "limit: option \"--limit\" cannot be inverted.\n"],
    ["filter", "INPUT", ["-m", "limit", "--limit", "5/s", "!", "--limit-burst", "3"], 2, "limit: option \"--limit-burst\" cannot be inverted.\n"],
  ];
  for (const [table, chain, args, exitCode, message] of cases) {
    it(`${table} ${chain} ${args.join(" ")}`, () => {
      const rules = new RuleSet();
      const out = runIptables(rules, ["-t", table, "-A", chain, ...args]);
      expect({ stderr: out.stderr, exitCode: out.exitCode }).toEqual(expectedRefusal(exitCode, message));
      expect(saved(rules, table)).toEqual([]);
    });
  }
});

describe("limit: rates stored as iptables-nft stores them", () => {
  it("finds 86401/day by -C as 1/second, the rate nftables keeps for it, but not as 2/second", () => {
    const rules = appended("filter", "INPUT", ["-m", "limit", "--limit", "86401/d"]);
    expect(runIptables(rules, ["-C", "INPUT", "-m", "limit", "--limit", "1/s"]).exitCode).toBe(0);
    expect(runIptables(rules, ["-C", "INPUT", "-m", "limit", "--limit", "1/s", "--limit-burst", "5"]).exitCode).toBe(0);
    expect(runIptables(rules, ["-C", "INPUT", "-m", "limit", "--limit", "2/s"]).exitCode).toBe(1);
  });

  it("prints the same match text in the verbose listing", () => {
    const rules = appended("filter", "INPUT", ["-m", "limit", "--limit", "5/min", "--limit-burst", "7"]);
    expect(listed(rules, "filter", "INPUT", "-v")).toEqual([
      "    0     0            all  --  any    any     anywhere             anywhere             limit: avg 5/min burst 7",
    ]);
  });
});

