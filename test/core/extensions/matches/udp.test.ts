// -m udp against iptables: ports by number or any service name (getaddrinfo), ranges, refusals.
// Every expected string below is what iptables 1.8.9 (nf_tables) printed for the same command in a
// scratch network namespace: the iptables-save text, the `iptables -L` line with and without -n,
// and the refusals with their exit codes.
import { describe, expect, it } from "vitest";
import { appended, saved, listed, expectedRefusal } from "../../../support/extension-harness.ts";
import { RuleSet } from "../../../../src/core/rules/model.ts";
import { runIptables } from "../../../../src/core/iptables/run.ts";

describe("udp: accepted rules as iptables saves and lists them", () => {
  // [table, chain, arguments, iptables-save after "-A CHAIN ", -L -n line, -L line]
  const cases: [string, string, string[], string, string, string][] = [
    ["filter", "INPUT", ["-p", "udp", "--sport", "53", "--dport", "1:1023"], "-p udp -m udp --sport 53 --dport 1:1023", "           17   --  0.0.0.0/0            0.0.0.0/0            udp spt:53 dpts:1:1023", "           udp  --  anywhere             anywhere             udp spt:domain dpts:1:1023"],
    ["filter", "INPUT", ["-p", "udp", "!", "--sport", "53", "!", "--dport", "1:1023"], "-p udp -m udp ! --sport 53 ! --dport 1:1023", "           17   --  0.0.0.0/0            0.0.0.0/0            udp spt:!53 dpts:!1:1023", "           udp  --  anywhere             anywhere             udp spt:!domain dpts:!1:1023"],
    ["filter", "INPUT", ["-p", "udp", "-m", "udp", "--source-port", "ntp:", "--destination-port", ":http"], "-p udp -m udp --sport 123:65535 --dport 0:80", "           17   --  0.0.0.0/0            0.0.0.0/0            udp spts:123:65535 dpts:0:80", "           udp  --  anywhere             anywhere             udp spts:ntp:65535 dpts:0:80"],
    ["filter", "INPUT", ["-p", "udp", "--dport", "67:68"], "-p udp -m udp --dport 67:68", "           17   --  0.0.0.0/0            0.0.0.0/0            udp dpts:67:68", "           udp  --  anywhere             anywhere             udp dpts:bootps:bootpc"],
    ["filter", "INPUT", ["-p", "udp", "--sport", "0:0"], "-p udp -m udp --sport 0", "           17   --  0.0.0.0/0            0.0.0.0/0            udp spt:0", "           udp  --  anywhere             anywhere             udp spt:0"],
    ["filter", "INPUT", ["-p", "udp", "--dport", "65535:"], "-p udp -m udp --dport 65535", "           17   --  0.0.0.0/0            0.0.0.0/0            udp dpt:65535", "           udp  --  anywhere             anywhere             udp dpt:65535"],
    ["filter", "INPUT", ["-p", "udp", "--sport", " 5"], "-p udp -m udp --sport 5", "           17   --  0.0.0.0/0            0.0.0.0/0            udp spt:5", "           udp  --  anywhere             anywhere             udp spt:5"],
    ["filter", "INPUT", ["-p", "udp", "--sport", "+5"], "-p udp -m udp --sport 5", "           17   --  0.0.0.0/0            0.0.0.0/0            udp spt:5", "           udp  --  anywhere             anywhere             udp spt:5"],
    ["filter", "INPUT", ["-p", "udp", "--sport", "010"], "-p udp -m udp --sport 10", "           17   --  0.0.0.0/0            0.0.0.0/0            udp spt:10", "           udp  --  anywhere             anywhere             udp spt:10"],
    ["filter", "INPUT", ["-p", "udp", "--sport", "65536"], "-p udp -m udp --sport 0", "           17   --  0.0.0.0/0            0.0.0.0/0            udp spt:0", "           udp  --  anywhere             anywhere             udp spt:0"],
    ["filter", "INPUT", ["-p", "udp", "--sport", "99999999999"], "-p udp -m udp --sport 59391", "           17   --  0.0.0.0/0            0.0.0.0/0            udp spt:59391", "           udp  --  anywhere             anywhere             udp spt:59391"],
    ["filter", "INPUT", ["-p", "udp", "--sport", ""], "-p udp -m udp --sport 0", "           17   --  0.0.0.0/0            0.0.0.0/0            udp spt:0", "           udp  --  anywhere             anywhere             udp spt:0"],
    ["filter", "INPUT", ["-p", "udp", "-m", "udp"], "-p udp -m udp", "           17   --  0.0.0.0/0            0.0.0.0/0            udp", "           udp  --  anywhere             anywhere             udp"],
    ["filter", "INPUT", ["-m", "udp", "--dport", "1", "-p", "17"], "-p udp -m udp --dport 1", "           17   --  0.0.0.0/0            0.0.0.0/0            udp dpt:1", "           udp  --  anywhere             anywhere             udp dpt:1"],
    ["filter", "INPUT", ["-p", "udp", "--dp", "5"], "-p udp -m udp --dport 5", "           17   --  0.0.0.0/0            0.0.0.0/0            udp dpt:5", "           udp  --  anywhere             anywhere             udp dpt:5"],
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

describe("udp: refusals", () => {
  // [table, chain, arguments, exit code, message]
  const cases: [string, string, string[], number, string][] = [
    ["filter", "INPUT", ["-p", "udp", "--sport", "0x10"], 2, "Port \"0x10\" does not resolve to anything.\n"],
    ["filter", "INPUT", ["-p", "udp", "--sport", "foo"], 2, "Port \"foo\" does not resolve to anything.\n"],
    ["filter", "INPUT", ["-p", "udp", "--dport", "-1"], 2, "Port \"-1\" does not resolve to anything.\n"],
    ["filter", "INPUT", ["-p", "udp", "--sport", "4294967295"], 2, "Port \"4294967295\" does not resolve to anything.\n"],
    ["filter", "INPUT", ["-p", "udp", "--sport", " ssh"], 2, "Port \" ssh\" does not resolve to anything.\n"],
    ["filter", "INPUT", ["-p", "udp", "--sport", "1:2:3"], 2, "udp: Too many components for option \"--source-port\" (max: 2)\n"],
    ["filter", "INPUT", ["-p", "udp", "--dport", "1:2:3"], 2, "udp: Too many components for option \"--destination-port\" (max: 2)\n"],
    ["filter", "INPUT", ["-p", "udp", "--sport", "foo:1:2"], 2, "Port \"foo\" does not resolve to anything.\n"],
    ["filter", "INPUT", ["-p", "udp", "--sport", "5", "--sport", "6"], 2, "udp: option \"--source-port\" can only be used once.\n"],
    ["filter", "INPUT", ["-p", "udp", "--source-port", "5", "--sport", "6"], 2, "udp: option \"--source-port\" can only be used once.\n"],
    ["filter", "INPUT", ["-p", "udp", "--dport", "5", "!", "--dport", "6"], 2, "udp: option \"--destination-port\" can only be used once.\n"],
    ["filter", "INPUT", ["-m", "udp", "--dport", "1"], 2, "UDP match requires '-p udp'"],
    ["filter", "INPUT", ["-p", "udp", "--d", "5"], 2, "unknown option \"--d\""],
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

describe("udp: listing with -v, checking and restoring", () => {
  it("prints the same match text in the verbose listing (iptables -L -v [-n])", () => {
    const rules = appended("filter", "INPUT", ["-p", "udp", "--sport", "domain", "!", "--dport", "1:1023"]);
    expect(listed(rules, "filter", "INPUT", "-v", "-n")).toEqual([
      "    0     0            17   --  *      *       0.0.0.0/0            0.0.0.0/0            udp spt:53 dpts:!1:1023",
    ]);
    expect(listed(rules, "filter", "INPUT", "-v")).toEqual([
      "    0     0            udp  --  any    any     anywhere             anywhere             udp spt:domain dpts:!1:1023",
    ]);
  });

  it("finds the rule with -C whatever spelling made it, and only the same rule", () => {
    const rules = appended("filter", "INPUT", ["-p", "udp", "--sport", "domain", "!", "--dport", "1:1023"]);
    const same = runIptables(rules, ["-C", "INPUT", "-p", "udp", "-m", "udp", "--source-port", "53", "!", "--destination-port", "1:1023"]);
    expect(same.exitCode).toBe(0);
    const other = runIptables(rules, ["-C", "INPUT", "-p", "udp", "-m", "udp", "--source-port", "53"]);
    expect(other).toMatchObject({ exitCode: 1, stderr: "uptables: Bad rule (does a matching rule exist in that chain?).\n" });
  });
});

describe("udp: where uptables follows iptables' own libxt_udp.t rather than 1.8.9 with nf_tables", () => {
  it("refuses a reversed range, which 1.8.9 stored as a rule that never matches", () => {
    const out = runIptables(new RuleSet(), ["-A", "INPUT", "-p", "udp", "--sport", "4:3"]);
    expect({ stderr: out.stderr, exitCode: out.exitCode }).toEqual(expectedRefusal(2, "invalid portrange (min > max)"));
  });

  it("keeps an inverted full range, which nf_tables dropped (saving just -p udp)", () => {
    const rules = appended("filter", "INPUT", ["-p", "udp", "-m", "udp", "!", "--sport", ":"]);
    expect(saved(rules, "filter")).toEqual(["-A INPUT -p udp -m udp ! --sport 0:65535"]);
  });
});

