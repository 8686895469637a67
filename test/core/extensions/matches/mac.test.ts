// -m mac against iptables: addresses as libxtables reads them, and the hooks frames arrive on.
// Every expected string below is what iptables 1.8.9 (nf_tables) printed for the same command in a
// scratch network namespace: the iptables-save text, the `iptables -L` line with and without -n,
// and the refusals with their exit codes.
import { describe, expect, it } from "vitest";
import { appended, saved, listed, expectedRefusal } from "../../../support/extension-harness.ts";
import { RuleSet } from "../../../../src/core/rules/model.ts";
import { runIptables } from "../../../../src/core/iptables/run.ts";

describe("mac: accepted rules as iptables saves and lists them", () => {
  // [table, chain, arguments, iptables-save after "-A CHAIN ", -L -n line, -L line]
  const cases: [string, string, string[], string, string, string][] = [
    ["filter", "INPUT", ["-m", "mac", "--mac-source", "00:11:22:33:44:55"], "-m mac --mac-source 00:11:22:33:44:55", "           0    --  0.0.0.0/0            0.0.0.0/0            MAC 00:11:22:33:44:55", "           all  --  anywhere             anywhere             MAC 00:11:22:33:44:55"],
    ["filter", "INPUT", ["-m", "mac", "!", "--mac-source", "aa:BB:cc:dd:ee:ff"], "-m mac ! --mac-source aa:bb:cc:dd:ee:ff", "           0    --  0.0.0.0/0            0.0.0.0/0            MAC ! aa:bb:cc:dd:ee:ff", "           all  --  anywhere             anywhere             MAC ! aa:bb:cc:dd:ee:ff"],
    ["filter", "INPUT", ["-m", "mac", "--mac-source", "0:1:2:3:4:5"], "-m mac --mac-source 00:01:02:03:04:05", "           0    --  0.0.0.0/0            0.0.0.0/0            MAC 00:01:02:03:04:05", "           all  --  anywhere             anywhere             MAC 00:01:02:03:04:05"],
    ["filter", "INPUT", ["-m", "mac", "--mac-source", ":11:22:33:44:55"], "-m mac --mac-source 00:11:22:33:44:55", "           0    --  0.0.0.0/0            0.0.0.0/0            MAC 00:11:22:33:44:55", "           all  --  anywhere             anywhere             MAC 00:11:22:33:44:55"],
    ["filter", "INPUT", ["-m", "mac", "--mac-source", "1:11:22:33:44:"], "-m mac --mac-source 01:11:22:33:44:00", "           0    --  0.0.0.0/0            0.0.0.0/0            MAC 01:11:22:33:44:00", "           all  --  anywhere             anywhere             MAC 01:11:22:33:44:00"],
    ["filter", "INPUT", ["-m", "mac", "--mac-source", "+1: 2:-1:-f:4:5"], "-m mac --mac-source 01:02:ff:f1:04:05", "           0    --  0.0.0.0/0            0.0.0.0/0            MAC 01:02:ff:f1:04:05", "           all  --  anywhere             anywhere             MAC 01:02:ff:f1:04:05"],
    ["filter", "INPUT", ["-m", "mac", "--mac-source", ":::::"], "-m mac --mac-source 00:00:00:00:00:00", "           0    --  0.0.0.0/0            0.0.0.0/0            MAC 00:00:00:00:00:00", "           all  --  anywhere             anywhere             MAC 00:00:00:00:00:00"],
    ["mangle", "PREROUTING", ["-m", "mac", "--mac-source", "00:11:22:33:44:55"], "-m mac --mac-source 00:11:22:33:44:55", "           0    --  0.0.0.0/0            0.0.0.0/0            MAC 00:11:22:33:44:55", "           all  --  anywhere             anywhere             MAC 00:11:22:33:44:55"],
    ["mangle", "INPUT", ["-m", "mac", "--mac-source", "00:11:22:33:44:55"], "-m mac --mac-source 00:11:22:33:44:55", "           0    --  0.0.0.0/0            0.0.0.0/0            MAC 00:11:22:33:44:55", "           all  --  anywhere             anywhere             MAC 00:11:22:33:44:55"],
    ["mangle", "FORWARD", ["-m", "mac", "--mac-source", "00:11:22:33:44:55"], "-m mac --mac-source 00:11:22:33:44:55", "           0    --  0.0.0.0/0            0.0.0.0/0            MAC 00:11:22:33:44:55", "           all  --  anywhere             anywhere             MAC 00:11:22:33:44:55"],
    ["nat", "PREROUTING", ["-m", "mac", "--mac-source", "00:11:22:33:44:55"], "-m mac --mac-source 00:11:22:33:44:55", "           0    --  0.0.0.0/0            0.0.0.0/0            MAC 00:11:22:33:44:55", "           all  --  anywhere             anywhere             MAC 00:11:22:33:44:55"],
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

describe("mac: refusals", () => {
  // [table, chain, arguments, exit code, message]
  const cases: [string, string, string[], number, string][] = [
    ["filter", "INPUT", ["-m", "mac", "--mac-source", "00:11:22:33:44"], 2, "Invalid MAC address specified."],
    ["filter", "INPUT", ["-m", "mac", "--mac-source", "00:11:22:33:44:55:66"], 2, "Invalid MAC address specified."],
    ["filter", "INPUT", ["-m", "mac", "--mac-source", "000:11:22:33:44:55"], 2, "Invalid MAC address specified."],
    ["filter", "INPUT", ["-m", "mac", "--mac-source", "00-11-22-33-44-55"], 2, "Invalid MAC address specified."],
    ["filter", "INPUT", ["-m", "mac", "--mac-source", "gg:11:22:33:44:55"], 2, "Invalid MAC address specified."],
    ["filter", "INPUT", ["-m", "mac", "--mac-source", "0x0:11:22:33:44:55"], 2, "Invalid MAC address specified."],
    ["filter", "INPUT", ["-m", "mac", "--mac-source", "+:2:3:4:5:6"], 2, "Invalid MAC address specified."],
    ["filter", "INPUT", ["-m", "mac", "--mac-source", "1:2:3:4:5:6x"], 2, "Invalid MAC address specified."],
    ["filter", "INPUT", ["-m", "mac", "--mac-source", "00:11:22:33:44:55", "--mac-source", "00:11:22:33:44:56"], 2, "mac: option \"--mac-source\" can only be used once.\n"],
    ["filter", "INPUT", ["-m", "mac"], 2, "mac: option \"--mac-source\" must be specified\n"],
    ["mangle", "OUTPUT", ["-m", "mac", "--mac-source", "00:11:22:33:44:55"], 4, " RULE_APPEND failed (Invalid argument): rule in chain OUTPUT"],
    ["mangle", "POSTROUTING", ["-m", "mac", "--mac-source", "00:11:22:33:44:55"], 4, " RULE_APPEND failed (Invalid argument): rule in chain POSTROUTING"],
    ["nat", "POSTROUTING", ["-m", "mac", "--mac-source", "00:11:22:33:44:55"], 4, " RULE_APPEND failed (Invalid argument): rule in chain POSTROUTING"],
    ["raw", "OUTPUT", ["-m", "mac", "--mac-source", "00:11:22:33:44:55"], 4, " RULE_APPEND failed (Invalid argument): rule in chain OUTPUT"],
    ["filter", "OUTPUT", ["-m", "mac", "--mac-source", "00:11:22:33:44:55"], 4, " RULE_APPEND failed (Invalid argument): rule in chain OUTPUT"],
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

describe("mac: hooks reached through user chains, and listings", () => {
  it("is accepted in a user chain until OUTPUT jumps to it", () => {
    const rules = new RuleSet();
    expect(runIptables(rules, ["-N", "macs"]).exitCode).toBe(0);
    expect(runIptables(rules, ["-A", "macs", "-m", "mac", "--mac-source", "00:11:22:33:44:55", "-j", "ACCEPT"]).exitCode).toBe(0);
    expect(runIptables(rules, ["-A", "INPUT", "-j", "macs"]).exitCode).toBe(0);
    const out = runIptables(rules, ["-A", "OUTPUT", "-j", "macs"]);
    expect({ stderr: out.stderr, exitCode: out.exitCode }).toEqual(
      expectedRefusal(4, " RULE_APPEND failed (Invalid argument): rule in chain OUTPUT"),
    );
  });

  it("prints the same match text in the verbose listing", () => {
    const rules = appended("filter", "INPUT", ["-m", "mac", "!", "--mac-source", "00:11:22:33:44:55"]);
    expect(listed(rules, "filter", "INPUT", "-v", "-n")).toEqual([
      "    0     0            0    --  *      *       0.0.0.0/0            0.0.0.0/0            MAC ! 00:11:22:33:44:55",
    ]);
  });
});

