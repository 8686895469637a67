// -m iprange against iptables: address ranges as libxtables' numeric parser reads them.
// Every expected string below is what iptables 1.8.9 (nf_tables) printed for the same command in a
// scratch network namespace: the iptables-save text, the `iptables -L` line with and without -n,
// and the refusals with their exit codes.
import { describe, expect, it } from "vitest";
import { appended, saved, listed, expectedRefusal } from "../../../support/extension-harness.ts";
import { RuleSet } from "../../../../src/core/rules/model.ts";
import { runIptables } from "../../../../src/core/iptables/run.ts";

describe("iprange: accepted rules as iptables saves and lists them", () => {
  // [table, chain, arguments, iptables-save after "-A CHAIN ", -L -n line, -L line]
  const cases: [string, string, string[], string, string, string][] = [
    ["filter", "INPUT", ["-m", "iprange", "--src-range", "1.1.1.1-1.1.1.10"], "-m iprange --src-range 1.1.1.1-1.1.1.10", "           0    --  0.0.0.0/0            0.0.0.0/0            source IP range 1.1.1.1-1.1.1.10", "           all  --  anywhere             anywhere             source IP range 1.1.1.1-1.1.1.10"],
    ["filter", "INPUT", ["-m", "iprange", "!", "--src-range", "1.1.1.1-1.1.1.10"], "-m iprange ! --src-range 1.1.1.1-1.1.1.10", "           0    --  0.0.0.0/0            0.0.0.0/0            source IP range ! 1.1.1.1-1.1.1.10", "           all  --  anywhere             anywhere             source IP range ! 1.1.1.1-1.1.1.10"],
    ["filter", "INPUT", ["-m", "iprange", "--dst-range", "1.1.1.1-1.1.1.10"], "-m iprange --dst-range 1.1.1.1-1.1.1.10", "           0    --  0.0.0.0/0            0.0.0.0/0            destination IP range 1.1.1.1-1.1.1.10", "           all  --  anywhere             anywhere             destination IP range 1.1.1.1-1.1.1.10"],
    ["filter", "INPUT", ["-m", "iprange", "!", "--dst-range", "10.0.0.1-10.0.0.5", "--src-range", "1.2.3.4-1.2.3.4"], "-m iprange --src-range 1.2.3.4-1.2.3.4 ! --dst-range 10.0.0.1-10.0.0.5", "           0    --  0.0.0.0/0            0.0.0.0/0            source IP range 1.2.3.4-1.2.3.4 destination IP range ! 10.0.0.1-10.0.0.5", "           all  --  anywhere             anywhere             source IP range 1.2.3.4-1.2.3.4 destination IP range ! 10.0.0.1-10.0.0.5"],
    ["filter", "INPUT", ["-m", "iprange", "--src-range", "1.1.1.1"], "-m iprange --src-range 1.1.1.1-1.1.1.1", "           0    --  0.0.0.0/0            0.0.0.0/0            source IP range 1.1.1.1-1.1.1.1", "           all  --  anywhere             anywhere             source IP range 1.1.1.1-1.1.1.1"],
    ["filter", "INPUT", ["-m", "iprange", "--src-range", "1.1.1-1.1.1.2"], "-m iprange --src-range 1.1.1.0-1.1.1.2", "           0    --  0.0.0.0/0            0.0.0.0/0            source IP range 1.1.1.0-1.1.1.2", "           all  --  anywhere             anywhere             source IP range 1.1.1.0-1.1.1.2"],
    ["filter", "INPUT", ["-m", "iprange", "--src-range", "10-11"], "-m iprange --src-range 10.0.0.0-11.0.0.0", "           0    --  0.0.0.0/0            0.0.0.0/0            source IP range 10.0.0.0-11.0.0.0", "           all  --  anywhere             anywhere             source IP range 10.0.0.0-11.0.0.0"],
    ["filter", "INPUT", ["-m", "iprange", "--src-range", "01.1.1.1-0x1.1.1.2"], "-m iprange --src-range 1.1.1.1-1.1.1.2", "           0    --  0.0.0.0/0            0.0.0.0/0            source IP range 1.1.1.1-1.1.1.2", "           all  --  anywhere             anywhere             source IP range 1.1.1.1-1.1.1.2"],
    ["filter", "INPUT", ["-m", "iprange", "--src-range", " 1.1.1.1-+1.1.1.2"], "-m iprange --src-range 1.1.1.1-1.1.1.2", "           0    --  0.0.0.0/0            0.0.0.0/0            source IP range 1.1.1.1-1.1.1.2", "           all  --  anywhere             anywhere             source IP range 1.1.1.1-1.1.1.2"],
    ["filter", "INPUT", ["-m", "iprange", "--src-range", "0.0.0.0-255.255.255.255"], "-m iprange --src-range 0.0.0.0-255.255.255.255", "           0    --  0.0.0.0/0            0.0.0.0/0            source IP range 0.0.0.0-255.255.255.255", "           all  --  anywhere             anywhere             source IP range 0.0.0.0-255.255.255.255"],
    ["filter", "INPUT", ["-m", "iprange", "--src-range", "1.2.3.0000000000000000001-1.2.3.9"], "-m iprange --src-range 1.2.3.0-1.2.3.9", "           0    --  0.0.0.0/0            0.0.0.0/0            source IP range 1.2.3.0-1.2.3.9", "           all  --  anywhere             anywhere             source IP range 1.2.3.0-1.2.3.9"],
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

describe("iprange: refusals", () => {
  // [table, chain, arguments, exit code, message]
  const cases: [string, string, string[], number, string][] = [
    ["filter", "INPUT", ["-m", "iprange", "--src-range", "1.1.1.1-"], 2, "iprange: Bad value for \"--src-range\" option: \"\""],
    ["filter", "INPUT", ["-m", "iprange", "--src-range", "-1.1.1.1"], 2, "iprange: Bad value for \"--src-range\" option: \"\""],
    ["filter", "INPUT", ["-m", "iprange", "--src-range", "1.1.1.256-1.1.1.2"], 2, "iprange: Bad value for \"--src-range\" option: \"1.1.1.256\""],
    ["filter", "INPUT", ["-m", "iprange", "--src-range", "localhost-1.1.1.2"], 2, "iprange: Bad value for \"--src-range\" option: \"localhost\""],
    ["filter", "INPUT", ["-m", "iprange", "--src-range", "1.1.1.1-1.1.1.2-1.1.1.3"], 2, "iprange: Bad value for \"--src-range\" option: \"1.1.1.2-1.1.1.3\""],
    ["filter", "INPUT", ["-m", "iprange", "--src-range", "1.1.1.1/24-1.1.1.2"], 2, "iprange: Bad value for \"--src-range\" option: \"1.1.1.1/24\""],
    ["filter", "INPUT", ["-m", "iprange", "--src-range", "::1-::2"], 2, "iprange: Bad value for \"--src-range\" option: \"::1\""],
    ["filter", "INPUT", ["-m", "iprange", "--src-range", "08.1.1.1"], 2, "iprange: Bad value for \"--src-range\" option: \"08.1.1.1\""],
    ["filter", "INPUT", ["-m", "iprange", "--src-range", "1..1.1"], 2, "iprange: Bad value for \"--src-range\" option: \"1..1.1\""],
    ["filter", "INPUT", ["-m", "iprange", "--src-range", "1.2.3.4.5"], 2, "iprange: Bad value for \"--src-range\" option: \"1.2.3.4.5\""],
    ["filter", "INPUT", ["-m", "iprange", "--dst-range", "1.1.1.1-1.1.1.2", "!", "--dst-range", "1.1.1.1-1.1.1.3"], 2, "iprange: option \"--dst-range\" can only be used once.\n"],
    ["filter", "INPUT", ["-m", "iprange"], 2, "iprange match: You must specify `--src-range' or `--dst-range'"],
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

describe("iprange: reversed ranges and listings", () => {
  it("keeps a reversed range (iptables also warns on stderr that it will never match)", () => {
    const rules = new RuleSet();
    const out = runIptables(rules, ["-A", "INPUT", "-m", "iprange", "--src-range", "1.1.1.10-1.1.1.1"]);
    expect(out.exitCode).toBe(0);
    expect(saved(rules, "filter")).toEqual(["-A INPUT -m iprange --src-range 1.1.1.10-1.1.1.1"]);
  });

  it("prints the same match text in the verbose listing", () => {
    const rules = appended("filter", "INPUT", ["-m", "iprange", "!", "--src-range", "1.1.1.1-1.1.1.10"]);
    expect(listed(rules, "filter", "INPUT", "-v")).toEqual([
      "    0     0            all  --  any    any     anywhere             anywhere             source IP range ! 1.1.1.1-1.1.1.10",
    ]);
  });
});

