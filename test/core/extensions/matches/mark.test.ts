// -m mark against iptables: value[/mask] as 32-bit numbers in any C base, printed in hex.
// Every expected string below is what iptables 1.8.9 (nf_tables) printed for the same command in a
// scratch network namespace: the iptables-save text, the `iptables -L` line with and without -n,
// and the refusals with their exit codes.
import { describe, expect, it } from "vitest";
import { appended, saved, listed, expectedRefusal } from "../../../support/extension-harness.ts";
import { RuleSet } from "../../../../src/core/rules/model.ts";
import { runIptables } from "../../../../src/core/iptables/run.ts";

describe("mark: accepted rules as iptables saves and lists them", () => {
  // [table, chain, arguments, iptables-save after "-A CHAIN ", -L -n line, -L line]
  const cases: [string, string, string[], string, string, string][] = [
    ["filter", "INPUT", ["-m", "mark", "--mark", "0xfeedcafe/0xfeedcafe"], "-m mark --mark 0xfeedcafe/0xfeedcafe", "           0    --  0.0.0.0/0            0.0.0.0/0            mark match 0xfeedcafe/0xfeedcafe", "           all  --  anywhere             anywhere             mark match 0xfeedcafe/0xfeedcafe"],
    ["filter", "INPUT", ["-m", "mark", "--mark", "0"], "-m mark --mark 0x0", "           0    --  0.0.0.0/0            0.0.0.0/0            mark match 0x0", "           all  --  anywhere             anywhere             mark match 0x0"],
    ["filter", "INPUT", ["-m", "mark", "--mark", "4294967295"], "-m mark --mark 0xffffffff", "           0    --  0.0.0.0/0            0.0.0.0/0            mark match 0xffffffff", "           all  --  anywhere             anywhere             mark match 0xffffffff"],
    ["filter", "INPUT", ["-m", "mark", "!", "--mark", "5"], "-m mark ! --mark 0x5", "           0    --  0.0.0.0/0            0.0.0.0/0            mark match ! 0x5", "           all  --  anywhere             anywhere             mark match ! 0x5"],
    ["filter", "INPUT", ["-m", "mark", "!", "--mark", "5/0xffffffff"], "-m mark ! --mark 0x5", "           0    --  0.0.0.0/0            0.0.0.0/0            mark match ! 0x5", "           all  --  anywhere             anywhere             mark match ! 0x5"],
    ["filter", "INPUT", ["-m", "mark", "--mark", "5/0"], "-m mark --mark 0x5/0x0", "           0    --  0.0.0.0/0            0.0.0.0/0            mark match 0x5/0x0", "           all  --  anywhere             anywhere             mark match 0x5/0x0"],
    ["filter", "INPUT", ["-m", "mark", "--mark", "010"], "-m mark --mark 0x8", "           0    --  0.0.0.0/0            0.0.0.0/0            mark match 0x8", "           all  --  anywhere             anywhere             mark match 0x8"],
    ["filter", "INPUT", ["-m", "mark", "--mark", " 5"], "-m mark --mark 0x5", "           0    --  0.0.0.0/0            0.0.0.0/0            mark match 0x5", "           all  --  anywhere             anywhere             mark match 0x5"],
    ["filter", "INPUT", ["-m", "mark", "--mark", "5/ +0xf"], "-m mark --mark 0x5/0xf", "           0    --  0.0.0.0/0            0.0.0.0/0            mark match 0x5/0xf", "           all  --  anywhere             anywhere             mark match 0x5/0xf"],
    ["filter", "INPUT", ["-m", "mark", "--mark", "0X1F/0Xf0"], "-m mark --mark 0x1f/0xf0", "           0    --  0.0.0.0/0            0.0.0.0/0            mark match 0x1f/0xf0", "           all  --  anywhere             anywhere             mark match 0x1f/0xf0"],
    ["filter", "INPUT", ["-m", "mark", "--mark", "256/0xf0"], "-m mark --mark 0x100/0xf0", "           0    --  0.0.0.0/0            0.0.0.0/0            mark match 0x100/0xf0", "           all  --  anywhere             anywhere             mark match 0x100/0xf0"],
    ["nat", "POSTROUTING", ["-m", "mark", "--mark", "1"], "-m mark --mark 0x1", "           0    --  0.0.0.0/0            0.0.0.0/0            mark match 0x1", "           all  --  anywhere             anywhere             mark match 0x1"],
    ["raw", "PREROUTING", ["-m", "mark", "!", "--mark", "1/1"], "-m mark ! --mark 0x1/0x1", "           0    --  0.0.0.0/0            0.0.0.0/0            mark match ! 0x1/0x1", "           all  --  anywhere             anywhere             mark match ! 0x1/0x1"],
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

describe("mark: refusals", () => {
  // [table, chain, arguments, exit code, message]
  const cases: [string, string, string[], number, string][] = [
    ["filter", "INPUT", ["-m", "mark", "--mark", "4294967296"], 2, "mark: bad integer value for option \"--mark\", or out of range.\n"],
    ["filter", "INPUT", ["-m", "mark", "--mark", "-1"], 2, "mark: bad integer value for option \"--mark\", or out of range.\n"],
    ["filter", "INPUT", ["-m", "mark", "--mark", "08"], 2, "mark: trailing garbage after value for option \"--mark\".\n"],
    ["filter", "INPUT", ["-m", "mark", "--mark", "5x"], 2, "mark: trailing garbage after value for option \"--mark\".\n"],
    ["filter", "INPUT", ["-m", "mark", "--mark", "5/"], 2, "mark: bad integer value for option \"--mark\", or out of range.\n"],
    ["filter", "INPUT", ["-m", "mark", "--mark", "/5"], 2, "mark: bad integer value for option \"--mark\", or out of range.\n"],
    ["filter", "INPUT", ["-m", "mark", "--mark", "5/x"], 2, "mark: bad integer value for option \"--mark\", or out of range.\n"],
    ["filter", "INPUT", ["-m", "mark", "--mark", "5/0x10x"], 2, "mark: trailing garbage after value for option \"--mark\".\n"],
    ["filter", "INPUT", ["-m", "mark", "--mark", ""], 2, "mark: bad integer value for option \"--mark\", or out of range.\n"],
    ["filter", "INPUT", ["-m", "mark", "--mark", "5", "--mark", "6"], 2, "mark: option \"--mark\" can only be used once.\n"],
    ["filter", "INPUT", ["-m", "mark"], 2, "mark: option \"--mark\" must be specified\n"],
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

describe("mark: checking and listings", () => {
  it("finds a rule by -C when the mask is spelled out or left to its default", () => {
    const rules = appended("filter", "INPUT", ["-m", "mark", "--mark", "5/0xffffffff"]);
    expect(runIptables(rules, ["-C", "INPUT", "-m", "mark", "--mark", "0x5"]).exitCode).toBe(0);
    expect(runIptables(rules, ["-C", "INPUT", "-m", "mark", "--mark", "0x5/0xff"]).exitCode).toBe(1);
  });

  it("prints the same match text in the verbose listing", () => {
    const rules = appended("filter", "INPUT", ["-m", "mark", "!", "--mark", "5/0xff"]);
    expect(listed(rules, "filter", "INPUT", "-v", "-n")).toEqual([
      "    0     0            0    --  *      *       0.0.0.0/0            0.0.0.0/0            mark match ! 0x5/0xff",
    ]);
  });
});

