// -m multiport against iptables: port lists and ranges, the 15-slot limit, protocols, and option conflicts.
// Every expected string below is what iptables 1.8.9 (nf_tables) printed for the same command in a
// scratch network namespace: the iptables-save text, the `iptables -L` line with and without -n,
// and the refusals with their exit codes.
import { describe, expect, it } from "vitest";
import { appended, saved, listed, expectedRefusal } from "../../../support/extension-harness.ts";
import { RuleSet } from "../../../../src/core/rules/model.ts";
import { runIptables } from "../../../../src/core/iptables/run.ts";

describe("multiport: accepted rules as iptables saves and lists them", () => {
  // [table, chain, arguments, iptables-save after "-A CHAIN ", -L -n line, -L line]
  const cases: [string, string, string[], string, string, string][] = [
    ["filter", "INPUT", ["-p", "tcp", "-m", "multiport", "--sports", "53,1024:65535,http"], "-p tcp -m multiport --sports 53,1024:65535,80", "           6    --  0.0.0.0/0            0.0.0.0/0            multiport sports 53,1024:65535,80", "           tcp  --  anywhere             anywhere             multiport sports domain,1024:65535,http"],
    ["filter", "INPUT", ["-p", "tcp", "-m", "multiport", "--source-ports", "22"], "-p tcp -m multiport --sports 22", "           6    --  0.0.0.0/0            0.0.0.0/0            multiport sports 22", "           tcp  --  anywhere             anywhere             multiport sports ssh"],
    ["filter", "INPUT", ["-p", "tcp", "-m", "multiport", "!", "--dports", "53,1024:65535,http"], "-p tcp -m multiport ! --dports 53,1024:65535,80", "           6    --  0.0.0.0/0            0.0.0.0/0            multiport dports  !53,1024:65535,80", "           tcp  --  anywhere             anywhere             multiport dports  !domain,1024:65535,http"],
    ["filter", "INPUT", ["-p", "tcp", "-m", "multiport", "--destination-ports", "ssh,https"], "-p tcp -m multiport --dports 22,443", "           6    --  0.0.0.0/0            0.0.0.0/0            multiport dports 22,443", "           tcp  --  anywhere             anywhere             multiport dports ssh,https"],
    ["filter", "INPUT", ["-p", "udp", "-m", "multiport", "--dports", "domain,ntp,1:2"], "-p udp -m multiport --dports 53,123,1:2", "           17   --  0.0.0.0/0            0.0.0.0/0            multiport dports 53,123,1:2", "           udp  --  anywhere             anywhere             multiport dports domain,ntp,1:2"],
    ["filter", "INPUT", ["-p", "sctp", "-m", "multiport", "--dports", "80,443,amqp"], "-p sctp -m multiport --dports 80,443,5672", "           132  --  0.0.0.0/0            0.0.0.0/0            multiport dports 80,443,5672", "           sctp --  anywhere             anywhere             multiport dports 80,443,amqp"],
    ["filter", "INPUT", ["-p", "dccp", "-m", "multiport", "--sports", "80,443"], "-p dccp -m multiport --sports 80,443", "           33   --  0.0.0.0/0            0.0.0.0/0            multiport sports 80,443", "           dccp --  anywhere             anywhere             multiport sports 80,443"],
    ["filter", "INPUT", ["-p", "udplite", "-m", "multiport", "--dports", "80,443"], "-p udplite -m multiport --dports 80,443", "           136  --  0.0.0.0/0            0.0.0.0/0            multiport dports 80,443", "           udplite --  anywhere             anywhere             multiport dports 80,443"],
    ["filter", "INPUT", ["-p", "tcp", "-m", "multiport", "--dports", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15"], "-p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15", "           6    --  0.0.0.0/0            0.0.0.0/0            multiport dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15", "           tcp  --  anywhere             anywhere             multiport dports tcpmux,2,3,4,5,6,echo,8,discard,10,systat,12,daytime,14,netstat"],
    ["filter", "INPUT", ["-p", "tcp", "-m", "multiport", "--dports", "1,2,3,4,5,6,7,8,9,10,11,12,13,14:15"], "-p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14:15", "           6    --  0.0.0.0/0            0.0.0.0/0            multiport dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14:15", "           tcp  --  anywhere             anywhere             multiport dports tcpmux,2,3,4,5,6,echo,8,discard,10,systat,12,daytime,14:netstat"],
    ["filter", "INPUT", ["-p", "tcp", "-m", "multiport", "--dports", "1:2,3:4,5:6,7:8,9:10,11:12,13:14,15"], "-p tcp -m multiport --dports 1:2,3:4,5:6,7:8,9:10,11:12,13:14,15", "           6    --  0.0.0.0/0            0.0.0.0/0            multiport dports 1:2,3:4,5:6,7:8,9:10,11:12,13:14,15", "           tcp  --  anywhere             anywhere             multiport dports tcpmux:2,3:4,5:6,echo:8,discard:10,systat:12,daytime:14,netstat"],
    ["filter", "INPUT", ["-p", "tcp", "-m", "multiport", "--ports", "0:65535"], "-p tcp -m multiport --ports 0:65535", "           6    --  0.0.0.0/0            0.0.0.0/0            multiport ports 0:65535", "           tcp  --  anywhere             anywhere             multiport ports 0:65535"],
    ["filter", "INPUT", ["-p", "tcp", "-m", "multiport", "--ports", "0x10,010,+5"], "-p tcp -m multiport --ports 16,8,5", "           6    --  0.0.0.0/0            0.0.0.0/0            multiport ports 16,8,5", "           tcp  --  anywhere             anywhere             multiport ports 16,8,5"],
    ["filter", "INPUT", ["-p", "tcp", "-m", "multiport", "--dports=5"], "-p tcp -m multiport --dports 5", "           6    --  0.0.0.0/0            0.0.0.0/0            multiport dports 5", "           tcp  --  anywhere             anywhere             multiport dports 5"],
    ["filter", "INPUT", ["-p", "tcp", "-m", "multiport", "--sports", "5", "-m", "multiport", "--dports", "6"], "-p tcp -m multiport --sports 5 -m multiport --dports 6", "           6    --  0.0.0.0/0            0.0.0.0/0            multiport sports 5 multiport dports 6", "           tcp  --  anywhere             anywhere             multiport sports 5 multiport dports 6"],
    ["filter", "INPUT", ["-p", "tcp", "--dport", "80", "-m", "multiport", "--ports", "10"], "-p tcp -m tcp --dport 80 -m multiport --ports 10", "           6    --  0.0.0.0/0            0.0.0.0/0            tcp dpt:80 multiport ports 10", "           tcp  --  anywhere             anywhere             tcp dpt:http multiport ports 10"],
    ["filter", "INPUT", ["-p", "tcp", "-m", "multiport", "--dport", "22"], "-p tcp -m multiport --dports 22", "           6    --  0.0.0.0/0            0.0.0.0/0            multiport dports 22", "           tcp  --  anywhere             anywhere             multiport dports ssh"],
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

describe("multiport: refusals", () => {
  // [table, chain, arguments, exit code, message]
  const cases: [string, string, string[], number, string][] = [
    ["filter", "INPUT", ["-p", "udp", "-m", "multiport", "!", "--ports", "53,1024:65535,http"], 2, "invalid port/service `http' specified"],
    ["filter", "INPUT", ["-p", "tcp", "-m", "multiport", "--sports", "53", "--dports", "54"], 2, "multiport: option \"--source-ports\" cannot be used together with \"--destination-ports\".\n"],
    ["filter", "INPUT", ["-p", "tcp", "-m", "multiport", "--dports", "53", "--ports", "54"], 2, "multiport: option \"--destination-ports\" cannot be used together with \"--ports\".\n"],
    ["filter", "INPUT", ["-p", "tcp", "-m", "multiport", "--ports", "53", "--sports", "54"], 2, "multiport: option \"--source-ports\" cannot be used together with \"--ports\".\n"],
    ["filter", "INPUT", ["-p", "tcp", "-m", "multiport", "--sports", "53", "--sports", "54"], 2, "multiport: option \"--source-ports\" can only be used once.\n"],
    ["filter", "INPUT", ["-p", "tcp", "-m", "multiport", "--source-ports", "53", "--sports", "54"], 2, "multiport: option \"--source-ports\" can only be used once.\n"],
    ["filter", "INPUT", ["-p", "tcp", "-m", "multiport"], 2, "multiport expection an option"],
    ["filter", "INPUT", ["-m", "multiport"], 2, "multiport expection an option"],
    ["filter", "INPUT", ["-m", "multiport", "--dports", "5"], 2, "multiport needs `-p tcp', `-p udp', `-p udplite', `-p sctp' or `-p dccp'"],
    ["filter", "INPUT", ["-m", "multiport", "--dports", "5", "-p", "tcp"], 2, "multiport needs `-p tcp', `-p udp', `-p udplite', `-p sctp' or `-p dccp'"],
    ["filter", "INPUT", ["-p", "icmp", "-m", "multiport", "--dports", "5"], 2, "multiport only works with TCP, UDP, UDPLITE, SCTP and DCCP"],
    ["filter", "INPUT", ["!", "-p", "tcp", "-m", "multiport", "--dports", "5"], 2, "multiport only works with TCP, UDP, UDPLITE, SCTP and DCCP"],
    ["filter", "INPUT", ["-p", "tcp", "-m", "multiport", "--dports", "5:4"], 2, "invalid portrange specified"],
    ["filter", "INPUT", ["-p", "tcp", "-m", "multiport", "--dports", "5:5"], 2, "invalid portrange specified"],
    ["filter", "INPUT", ["-p", "tcp", "-m", "multiport", "--dports", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16"], 2, "too many ports specified"],
    ["filter", "INPUT", ["-p", "tcp", "-m", "multiport", "--dports", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15:16"], 2, "too many ports specified"],
    ["filter", "INPUT", ["-p", "tcp", "-m", "multiport", "--dports", "1:2,3:4,5:6,7:8,9:10,11:12,13:14,15:16"], 2, "too many ports specified"],
    ["filter", "INPUT", ["-p", "tcp", "-m", "multiport", "--dports", "1,,2"], 2, "invalid port/service `' specified"],
    ["filter", "INPUT", ["-p", "tcp", "-m", "multiport", "--dports", "5,"], 2, "invalid port/service `' specified"],
    ["filter", "INPUT", ["-p", "tcp", "-m", "multiport", "--dports", ":5"], 2, "invalid port/service `' specified"],
    ["filter", "INPUT", ["-p", "tcp", "-m", "multiport", "--dports", "1:2:3"], 2, "invalid port/service `2:3' specified"],
    ["filter", "INPUT", ["-p", "tcp", "-m", "multiport", "--dports", "65536"], 2, "invalid port/service `65536' specified"],
    ["filter", "INPUT", ["-p", "tcp", "-m", "multiport", "--dports", "HTTP"], 2, "invalid port/service `HTTP' specified"],
    ["filter", "INPUT", ["-p", "tcp", "-m", "multiport", "--dports", "ntp"], 2, "invalid port/service `ntp' specified"],
    ["filter", "INPUT", ["-p", "sctp", "-m", "multiport", "--dports", "http"], 2, "invalid port/service `http' specified"],
    ["filter", "INPUT", ["-p", "tcp", "--multiport"], 2, "unknown option \"--multiport\""],
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

describe("multiport: listings", () => {
  it("prints the same match text in the verbose listing", () => {
    const rules = appended("filter", "INPUT", ["-p", "tcp", "-m", "multiport", "!", "--dports", "53,1024:65535,http"]);
    expect(listed(rules, "filter", "INPUT", "-v")).toEqual([
      "    0     0            tcp  --  any    any     anywhere             anywhere             multiport dports  !domain,1024:65535,http",
    ]);
    expect(listed(rules, "filter", "INPUT", "-v", "-n")).toEqual([
      "    0     0            6    --  *      *       0.0.0.0/0            0.0.0.0/0            multiport dports  !53,1024:65535,80",
    ]);
  });
});

