// -m connmark against iptables: value[/mask] of the connection mark, in any table.
// Every expected string below is what iptables 1.8.9 (nf_tables) printed for the same command in a
// scratch network namespace: the iptables-save text, the `iptables -L` line with and without -n,
// and the refusals with their exit codes.
import { describe, expect, it } from "vitest";
import { appended, saved, listed, expectedRefusal } from "../../../support/extension-harness.ts";
import { RuleSet } from "../../../../src/core/rules/model.ts";
import { runIptables } from "../../../../src/core/iptables/run.ts";

describe("connmark: accepted rules as iptables saves and lists them", () => {
  // [table, chain, arguments, iptables-save after "-A CHAIN ", -L -n line, -L line]
  const cases: [string, string, string[], string, string, string][] = [
    ["mangle", "PREROUTING", ["-m", "connmark", "--mark", "0xffffffff"], "-m connmark --mark 0xffffffff", "           0    --  0.0.0.0/0            0.0.0.0/0            connmark match  0xffffffff", "           all  --  anywhere             anywhere             connmark match  0xffffffff"],
    ["mangle", "PREROUTING", ["-m", "connmark", "--mark", "0xffffffff/0xffffffff"], "-m connmark --mark 0xffffffff", "           0    --  0.0.0.0/0            0.0.0.0/0            connmark match  0xffffffff", "           all  --  anywhere             anywhere             connmark match  0xffffffff"],
    ["mangle", "PREROUTING", ["-m", "connmark", "--mark", "0xffffffff/0x0"], "-m connmark --mark 0xffffffff/0x0", "           0    --  0.0.0.0/0            0.0.0.0/0            connmark match  0xffffffff/0x0", "           all  --  anywhere             anywhere             connmark match  0xffffffff/0x0"],
    ["mangle", "PREROUTING", ["-m", "connmark", "--mark", "0/0xffffffff"], "-m connmark --mark 0x0", "           0    --  0.0.0.0/0            0.0.0.0/0            connmark match  0x0", "           all  --  anywhere             anywhere             connmark match  0x0"],
    ["mangle", "PREROUTING", ["-m", "connmark", "!", "--mark", "0xffffffff/0xf"], "-m connmark ! --mark 0xffffffff/0xf", "           0    --  0.0.0.0/0            0.0.0.0/0            connmark match ! 0xffffffff/0xf", "           all  --  anywhere             anywhere             connmark match ! 0xffffffff/0xf"],
    ["mangle", "PREROUTING", ["-m", "connmark", "!", "--mark", "1"], "-m connmark ! --mark 0x1", "           0    --  0.0.0.0/0            0.0.0.0/0            connmark match ! 0x1", "           all  --  anywhere             anywhere             connmark match ! 0x1"],
    ["mangle", "PREROUTING", ["-m", "connmark", "--mark", "0x10/0x10"], "-m connmark --mark 0x10/0x10", "           0    --  0.0.0.0/0            0.0.0.0/0            connmark match  0x10/0x10", "           all  --  anywhere             anywhere             connmark match  0x10/0x10"],
    ["filter", "INPUT", ["-m", "connmark", "--mark", "7"], "-m connmark --mark 0x7", "           0    --  0.0.0.0/0            0.0.0.0/0            connmark match  0x7", "           all  --  anywhere             anywhere             connmark match  0x7"],
    ["nat", "OUTPUT", ["-m", "connmark", "!", "--mark", "7"], "-m connmark ! --mark 0x7", "           0    --  0.0.0.0/0            0.0.0.0/0            connmark match ! 0x7", "           all  --  anywhere             anywhere             connmark match ! 0x7"],
    ["raw", "OUTPUT", ["-m", "connmark", "--mark", "7/0xff"], "-m connmark --mark 0x7/0xff", "           0    --  0.0.0.0/0            0.0.0.0/0            connmark match  0x7/0xff", "           all  --  anywhere             anywhere             connmark match  0x7/0xff"],
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

describe("connmark: refusals", () => {
  // [table, chain, arguments, exit code, message]
  const cases: [string, string, string[], number, string][] = [
    ["mangle", "PREROUTING", ["-m", "connmark", "--mark", "-1"], 2, "connmark: bad integer value for option \"--mark\", or out of range.\n"],
    ["mangle", "PREROUTING", ["-m", "connmark", "--mark", "0xfffffffff"], 2, "connmark: bad integer value for option \"--mark\", or out of range.\n"],
    ["mangle", "PREROUTING", ["-m", "connmark", "--mark", "5x"], 2, "connmark: trailing garbage after value for option \"--mark\".\n"],
    ["mangle", "PREROUTING", ["-m", "connmark", "--mark", "5/x"], 2, "connmark: bad integer value for option \"--mark\", or out of range.\n"],
    ["mangle", "PREROUTING", ["-m", "connmark", "--mark", "1", "--mark", "2"], 2, "connmark: option \"--mark\" can only be used once.\n"],
    ["mangle", "PREROUTING", ["-m", "connmark"], 2, "connmark: option \"--mark\" must be specified\n"],
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

describe("connmark: listings", () => {
  it("prints the same match text in the verbose listing", () => {
    const rules = appended("filter", "INPUT", ["-m", "connmark", "!", "--mark", "5/0xff"]);
    expect(listed(rules, "filter", "INPUT", "-v")).toEqual([
      "    0     0            all  --  any    any     anywhere             anywhere             connmark match ! 0x5/0xff",
    ]);
  });
});

