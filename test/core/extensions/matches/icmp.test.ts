// -m icmp against iptables: type names and prefixes, type/code[:code], any, and the kernel's -p icmp check.
// Every expected string below is what iptables 1.8.9 (nf_tables) printed for the same command in a
// scratch network namespace: the iptables-save text, the `iptables -L` line with and without -n,
// and the refusals with their exit codes.
import { describe, expect, it } from "vitest";
import { appended, saved, listed, expectedRefusal } from "../../../support/extension-harness.ts";
import { RuleSet } from "../../../../src/core/rules/model.ts";
import { BACKEND, runIptables, runRestore, VERSION } from "../../../../src/core/iptables/run.ts";

describe("icmp: accepted rules as iptables saves and lists them", () => {
  // [table, chain, arguments, iptables-save after "-A CHAIN ", -L -n line, -L line]
  const cases: [string, string, string[], string, string, string][] = [
    ["filter", "INPUT", ["-p", "icmp", "--icmp-type", "any"], "-p icmp -m icmp --icmp-type any", "           1    --  0.0.0.0/0            0.0.0.0/0            icmptype 255", "           icmp --  anywhere             anywhere             icmp any"],
    ["filter", "INPUT", ["-p", "icmp", "!", "--icmp-type", "any"], "-p icmp -m icmp ! --icmp-type any", "           1    --  0.0.0.0/0            0.0.0.0/0            icmp !type 255", "           icmp --  anywhere             anywhere             icmp !any"],
    ["filter", "INPUT", ["-p", "icmp", "--icmp-type", "echo-request"], "-p icmp -m icmp --icmp-type 8", "           1    --  0.0.0.0/0            0.0.0.0/0            icmptype 8", "           icmp --  anywhere             anywhere             icmp echo-request"],
    ["filter", "INPUT", ["-p", "icmp", "!", "--icmp-type", "echo-request"], "-p icmp -m icmp ! --icmp-type 8", "           1    --  0.0.0.0/0            0.0.0.0/0            icmp !type 8", "           icmp --  anywhere             anywhere             icmp !echo-request"],
    ["filter", "INPUT", ["-p", "icmp", "--icmp-type", "ping"], "-p icmp -m icmp --icmp-type 8", "           1    --  0.0.0.0/0            0.0.0.0/0            icmptype 8", "           icmp --  anywhere             anywhere             icmp echo-request"],
    ["filter", "INPUT", ["-p", "icmp", "--icmp-type", "ECHO-reply"], "-p icmp -m icmp --icmp-type 0", "           1    --  0.0.0.0/0            0.0.0.0/0            icmptype 0", "           icmp --  anywhere             anywhere             icmp echo-reply"],
    ["filter", "INPUT", ["-p", "icmp", "--icmp-type", "destination-unreachable"], "-p icmp -m icmp --icmp-type 3", "           1    --  0.0.0.0/0            0.0.0.0/0            icmptype 3", "           icmp --  anywhere             anywhere             icmp destination-unreachable"],
    ["filter", "INPUT", ["-p", "icmp", "--icmp-type", "port-unreachable"], "-p icmp -m icmp --icmp-type 3/3", "           1    --  0.0.0.0/0            0.0.0.0/0            icmptype 3 code 3", "           icmp --  anywhere             anywhere             icmp port-unreachable"],
    ["filter", "INPUT", ["-p", "icmp", "--icmp-type", "TOS-host-r"], "-p icmp -m icmp --icmp-type 5/3", "           1    --  0.0.0.0/0            0.0.0.0/0            icmptype 5 code 3", "           icmp --  anywhere             anywhere             icmp TOS-host-redirect"],
    ["filter", "INPUT", ["-p", "icmp", "--icmp-type", "ttl-exceeded"], "-p icmp -m icmp --icmp-type 11", "           1    --  0.0.0.0/0            0.0.0.0/0            icmptype 11", "           icmp --  anywhere             anywhere             icmp time-exceeded"],
    ["filter", "INPUT", ["-p", "icmp", "--icmp-type", "ttl-zero-during-reassembly"], "-p icmp -m icmp --icmp-type 11/1", "           1    --  0.0.0.0/0            0.0.0.0/0            icmptype 11 code 1", "           icmp --  anywhere             anywhere             icmp ttl-zero-during-reassembly"],
    ["filter", "INPUT", ["-p", "icmp", "--icmp-type", "required-option-missing"], "-p icmp -m icmp --icmp-type 12/1", "           1    --  0.0.0.0/0            0.0.0.0/0            icmptype 12 code 1", "           icmp --  anywhere             anywhere             icmp required-option-missing"],
    ["filter", "INPUT", ["-p", "icmp", "--icmp-type", "address-mask-reply"], "-p icmp -m icmp --icmp-type 18", "           1    --  0.0.0.0/0            0.0.0.0/0            icmptype 18", "           icmp --  anywhere             anywhere             icmp address-mask-reply"],
    ["filter", "INPUT", ["-p", "icmp", "--icmp-type", "8"], "-p icmp -m icmp --icmp-type 8", "           1    --  0.0.0.0/0            0.0.0.0/0            icmptype 8", "           icmp --  anywhere             anywhere             icmp echo-request"],
    ["filter", "INPUT", ["-p", "icmp", "--icmp-type", "8/0"], "-p icmp -m icmp --icmp-type 8/0", "           1    --  0.0.0.0/0            0.0.0.0/0            icmptype 8 code 0", "           icmp --  anywhere             anywhere             icmptype 8 code 0"],
    ["filter", "INPUT", ["-p", "icmp", "!", "--icmp-type", "8/0"], "-p icmp -m icmp ! --icmp-type 8/0", "           1    --  0.0.0.0/0            0.0.0.0/0            icmp !type 8 code 0", "           icmp --  anywhere             anywhere             icmp !type 8 code 0"],
    ["filter", "INPUT", ["-p", "icmp", "--icmp-type", "3/3"], "-p icmp -m icmp --icmp-type 3/3", "           1    --  0.0.0.0/0            0.0.0.0/0            icmptype 3 code 3", "           icmp --  anywhere             anywhere             icmp port-unreachable"],
    ["filter", "INPUT", ["-p", "icmp", "--icmp-type", "3/1:2"], "-p icmp -m icmp --icmp-type 3/1", "           1    --  0.0.0.0/0            0.0.0.0/0            icmptype 3 codes 1-2", "           icmp --  anywhere             anywhere             icmptype 3 codes 1-2"],
    ["filter", "INPUT", ["-p", "icmp", "!", "--icmp-type", "3/1:2"], "-p icmp -m icmp ! --icmp-type 3/1", "           1    --  0.0.0.0/0            0.0.0.0/0            icmp !type 3 codes 1-2", "           icmp --  anywhere             anywhere             icmp !type 3 codes 1-2"],
    ["filter", "INPUT", ["-p", "icmp", "--icmp-type", "3/0:255"], "-p icmp -m icmp --icmp-type 3", "           1    --  0.0.0.0/0            0.0.0.0/0            icmptype 3", "           icmp --  anywhere             anywhere             icmp destination-unreachable"],
    ["filter", "INPUT", ["-p", "icmp", "--icmp-type", "15"], "-p icmp -m icmp --icmp-type 15", "           1    --  0.0.0.0/0            0.0.0.0/0            icmptype 15", "           icmp --  anywhere             anywhere             icmptype 15"],
    ["filter", "INPUT", ["-p", "icmp", "--icmp-type", "3/255"], "-p icmp -m icmp --icmp-type 3/255", "           1    --  0.0.0.0/0            0.0.0.0/0            icmptype 3 code 255", "           icmp --  anywhere             anywhere             icmptype 3 code 255"],
    ["filter", "INPUT", ["-p", "icmp", "--icmp-type", "255/0:255"], "-p icmp -m icmp --icmp-type any", "           1    --  0.0.0.0/0            0.0.0.0/0            icmptype 255", "           icmp --  anywhere             anywhere             icmp any"],
    ["filter", "INPUT", ["-p", "icmp", "--icmp-type", "0x8"], "-p icmp -m icmp --icmp-type 8", "           1    --  0.0.0.0/0            0.0.0.0/0            icmptype 8", "           icmp --  anywhere             anywhere             icmp echo-request"],
    ["filter", "INPUT", ["-p", "icmp", "--icmp-type", " 8"], "-p icmp -m icmp --icmp-type 8", "           1    --  0.0.0.0/0            0.0.0.0/0            icmptype 8", "           icmp --  anywhere             anywhere             icmp echo-request"],
    ["filter", "INPUT", ["-p", "icmp", "--icmp-type", "3/+3"], "-p icmp -m icmp --icmp-type 3/3", "           1    --  0.0.0.0/0            0.0.0.0/0            icmptype 3 code 3", "           icmp --  anywhere             anywhere             icmp port-unreachable"],
    ["filter", "INPUT", ["-p", "icmp", "--icmp-type", "3:3/1"], "-p icmp -m icmp --icmp-type 3/1", "           1    --  0.0.0.0/0            0.0.0.0/0            icmptype 3 code 1", "           icmp --  anywhere             anywhere             icmp host-unreachable"],
    ["filter", "INPUT", ["-m", "icmp", "--icmp-type", "8", "-p", "icmp"], "-p icmp -m icmp --icmp-type 8", "           1    --  0.0.0.0/0            0.0.0.0/0            icmptype 8", "           icmp --  anywhere             anywhere             icmp echo-request"],
    ["filter", "INPUT", ["-p", "1", "-m", "icmp", "--icmp-type", "0"], "-p icmp -m icmp --icmp-type 0", "           1    --  0.0.0.0/0            0.0.0.0/0            icmptype 0", "           icmp --  anywhere             anywhere             icmp echo-reply"],
    ["filter", "INPUT", ["-p", "icmp", "-m", "icmp", "--icmp-type", "8", "-m", "icmp", "--icmp-type", "0"], "-p icmp -m icmp --icmp-type 8 -m icmp --icmp-type 0", "           1    --  0.0.0.0/0            0.0.0.0/0            icmptype 8 icmptype 0", "           icmp --  anywhere             anywhere             icmp echo-request icmp echo-reply"],
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

describe("icmp: refusals", () => {
  // [table, chain, arguments, exit code, message]
  const cases: [string, string, string[], number, string][] = [
    ["filter", "INPUT", ["-p", "icmp", "--icmp-type", "host-un"], 2, "Ambiguous ICMP type `host-un': `host-unreachable' or `host-unknown'?"],
    ["filter", "INPUT", ["-p", "icmp", "--icmp-type", "e"], 2, "Ambiguous ICMP type `e': `echo-reply' or `echo-request'?"],
    ["filter", "INPUT", ["-p", "icmp", "--icmp-type", "time"], 2, "Ambiguous ICMP type `time': `time-exceeded' or `timestamp-request'?"],
    ["filter", "INPUT", ["-p", "icmp", "--icmp-type", ""], 2, "Ambiguous ICMP type `': `any' or `echo-reply'?"],
    ["filter", "INPUT", ["-p", "icmp", "--icmp-type", "echo-requestX"], 2, "Unknown ICMP type `echo-requestX'"],
    ["filter", "INPUT", ["-p", "icmp", "--icmp-type", "256"], 2, "Unknown ICMP type `256'"],
    ["filter", "INPUT", ["-p", "icmp", "--icmp-type", "-1"], 2, "Unknown ICMP type `-1'"],
    ["filter", "INPUT", ["-p", "icmp", "--icmp-type", "/8"], 2, "Unknown ICMP type `/8'"],
    ["filter", "INPUT", ["-p", "icmp", "--icmp-type", "08"], 2, "unknown character 8"],
    ["filter", "INPUT", ["-p", "icmp", "--icmp-type", "0x"], 2, "unknown character x"],
    ["filter", "INPUT", ["-p", "icmp", "--icmp-type", "8/1/2"], 2, "unknown character /"],
    ["filter", "INPUT", ["-p", "icmp", "--icmp-type", "3/3 "], 2, "unknown character  "],
    ["filter", "INPUT", ["-p", "icmp", "--icmp-type", "8/"], 2, "Unknown ICMP code `8/'"],
    ["filter", "INPUT", ["-p", "icmp", "--icmp-type", "8/256"], 2, "Unknown ICMP code `8/256'"],
    ["filter", "INPUT", ["-p", "icmp", "--icmp-type", "3/1:"], 2, "Unknown ICMP code `3/1:'"],
    ["filter", "INPUT", ["-p", "icmp", "--icmp-type", "3:4"], 2, "ICMP type range not supported"],
    ["filter", "INPUT", ["-p", "icmp", "--icmp-type", "3:4/x"], 2, "Unknown ICMP code `3:4/x'"],
    ["filter", "INPUT", ["-p", "icmp", "--icmp-type", "3:4x"], 2, "unknown character x"],
    ["filter", "INPUT", ["-p", "icmp", "-m", "icmp"], 2, "icmp: option \"--icmp-type\" must be specified\n"],
    ["filter", "INPUT", ["-p", "icmp", "--icmp-type", "8", "--icmp-type", "3"], 2, "icmp: option \"--icmp-type\" can only be used once.\n"],
    ["filter", "INPUT", ["-m", "icmp"], 2, "icmp: option \"--icmp-type\" must be specified\n"],
    ["filter", "INPUT", ["-m", "icmp", "--icmp-type", "8"], 4, " RULE_APPEND failed (Invalid argument): rule in chain INPUT"],
    ["filter", "INPUT", ["!", "-p", "icmp", "-m", "icmp", "--icmp-type", "8"], 4, " RULE_APPEND failed (Invalid argument): rule in chain INPUT"],
    ["filter", "INPUT", ["-p", "tcp", "-m", "icmp", "--icmp-type", "8"], 4, " RULE_APPEND failed (Invalid argument): rule in chain INPUT"],
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

describe("icmp: listing with -v and the kernel's protocol check", () => {
  it("prints the same match text in the verbose listing", () => {
    const rules = appended("filter", "INPUT", ["-p", "icmp", "--icmp-type", "echo-request"]);
    expect(listed(rules, "filter", "INPUT", "-v")).toEqual([
      "    0     0            icmp --  any    any     anywhere             anywhere             icmp echo-request",
    ]);
    expect(listed(rules, "filter", "INPUT", "-v", "-n")).toEqual([
      "    0     0            1    --  *      *       0.0.0.0/0            0.0.0.0/0            icmptype 8",
    ]);
  });

  it("is refused without -p icmp in a user chain too, and accepted there with it", () => {
    const rules = new RuleSet();
    expect(runIptables(rules, ["-N", "icmps"]).exitCode).toBe(0);
    expect(runIptables(rules, ["-A", "INPUT", "-j", "icmps"]).exitCode).toBe(0);
    expect(runIptables(rules, ["-A", "icmps", "-p", "icmp", "-m", "icmp", "--icmp-type", "8"]).exitCode).toBe(0);
    const out = runIptables(rules, ["-A", "icmps", "-m", "icmp", "--icmp-type", "8"]);
    expect({ stderr: out.stderr, exitCode: out.exitCode }).toEqual(
      expectedRefusal(4, " RULE_APPEND failed (Invalid argument): rule in chain icmps"),
    );
  });

  it("is refused without -p icmp when iptables-restore commits", () => {
    const out = runRestore(new RuleSet(), "*filter\n-A INPUT -m icmp --icmp-type 8\nCOMMIT\n", {});
    expect(out.exitCode).toBe(4);
    expect(out.stderr).toBe(`uptables-restore v${VERSION} (${BACKEND}): \nline 2: RULE_APPEND failed (Invalid argument): rule in chain INPUT\n`);
  });

  it("saves 255/255 apart from any, as iptables' own libipt_icmp.t wants (1.8.9 with nf_tables saved any)", () => {
    const rules = appended("filter", "INPUT", ["-p", "icmp", "--icmp-type", "255/255"]);
    expect(saved(rules, "filter")).toEqual(["-A INPUT -p icmp -m icmp --icmp-type 255/255"]);
    // The listing is 1.8.9's own.
    expect(listed(rules, "filter", "INPUT")).toEqual([
      "           icmp --  anywhere             anywhere             icmptype 255 code 255",
    ]);
  });
});

