// -j DNAT against what iptables 1.8.9 (nf_tables) printed for the same commands in a scratch
// network namespace: iptables-save text, `iptables -L` lines, refusals and their exit codes.
import { describe, expect, it } from "vitest";
import { TAG, HINT, savedRules, listed, appendedToNat, targetData } from "./nat-harness.ts";
import { RuleSet } from "../../../../src/core/rules/model.ts";
import { runIptables } from "../../../../src/core/iptables/run.ts";
import {
  NF_NAT_RANGE_MAP_IPS,
  NF_NAT_RANGE_PERSISTENT,
  NF_NAT_RANGE_PROTO_OFFSET,
  NF_NAT_RANGE_PROTO_RANDOM,
  NF_NAT_RANGE_PROTO_SPECIFIED,
  type NatRange,
} from "../../../../src/core/extensions/targets/nat-range.ts";

/** The rule lines of uptables-save for the nat table. */

/** The rule lines of `-L CHAIN` (without the chain and column headers). */

const appended = (args: readonly string[], chain = "PREROUTING"): RuleSet => appendedToNat(chain, args);

describe("DNAT accepted as iptables accepts it", () => {
  // [arguments, iptables-save after "-A PREROUTING ", -L -n last column, protocol columns (-n / names)]
  const cases: [string[], string, string, string, string][] = [
    [["-j", "DNAT", "--to-destination", "1.1.1.1"], "-j DNAT --to-destination 1.1.1.1", "to:1.1.1.1", "0   ", "all "],
    [["-j", "DNAT", "--to-destination", "1.1.1.1-1.1.1.10"], "-j DNAT --to-destination 1.1.1.1-1.1.1.10", "to:1.1.1.1-1.1.1.10", "0   ", "all "],
    [["-p", "tcp", "-j", "DNAT", "--to-destination", "1.1.1.1:1025-65535"], "-p tcp -j DNAT --to-destination 1.1.1.1:1025-65535", "to:1.1.1.1:1025-65535", "6   ", "tcp "],
    [["-p", "tcp", "-j", "DNAT", "--to-destination", "1.1.1.1:1000-2000/1000"], "-p tcp -j DNAT --to-destination 1.1.1.1:1000-2000/1000", "to:1.1.1.1:1000-2000/1000", "6   ", "tcp "],
    [["-p", "tcp", "-j", "DNAT", "--to-destination", "1.1.1.1:10-20/ftp"], "-p tcp -j DNAT --to-destination 1.1.1.1:10-20/21", "to:1.1.1.1:10-20/21", "6   ", "tcp "],
    [["-p", "tcp", "-j", "DNAT", "--to-destination", ":80"], "-p tcp -j DNAT --to-destination :80", "to::80", "6   ", "tcp "],
    [["-p", "icmp", "-j", "DNAT", "--to-destination", ":80"], "-p icmp -j DNAT --to-destination :80", "to::80", "1   ", "icmp"],
    [["-p", "dccp", "-j", "DNAT", "--to-destination", ":80"], "-p dccp -j DNAT --to-destination :80", "to::80", "33  ", "dccp"],
    [["-p", "sctp", "-j", "DNAT", "--to-destination", ":80"], "-p sctp -j DNAT --to-destination :80", "to::80", "132 ", "sctp"],
    [["-p", "tcp", "-j", "DNAT", "--to-destination", "1.1.1.1:80", "--random", "--persistent"], "-p tcp -j DNAT --to-destination 1.1.1.1:80 --random --persistent", "to:1.1.1.1:80 random persistent", "6   ", "tcp "],
    // "NN:port": two characters before the colon are taken as IPv6's "[]", so no address.
    [["-p", "tcp", "-j", "DNAT", "--to-destination", "12:80"], "-p tcp -j DNAT --to-destination :80", "to::80", "6   ", "tcp "],
    [["-p", "tcp", "-j", "DNAT", "--to-destination", "1.1.1.10-1.1.1.1"], "-p tcp -j DNAT --to-destination 1.1.1.10-1.1.1.1", "to:1.1.1.10-1.1.1.1", "6   ", "tcp "],
    [["-j", "DNAT", "--to-destination", "1.1.1.1-1.1.1.1"], "-j DNAT --to-destination 1.1.1.1", "to:1.1.1.1", "0   ", "all "],
    [["-p", "tcp", "-j", "DNAT", "--to-destination", "1.1.1.1-1.1.1.2:80-80"], "-p tcp -j DNAT --to-destination 1.1.1.1-1.1.1.2:80", "to:1.1.1.1-1.1.1.2:80", "6   ", "tcp "],
    [["-p", "tcp", "-j", "DNAT", "--to-destination", "0.0.0.0:0"], "-p tcp -j DNAT --to-destination 0.0.0.0:0", "to:0.0.0.0:0", "6   ", "tcp "],
    [["-p", "tcp", "-j", "DNAT", "--to-destination", ":0"], "-p tcp -j DNAT --to-destination :0", "to::0", "6   ", "tcp "],
    [["-p", "tcp", "-j", "DNAT", "--to", "1.2.3.4"], "-p tcp -j DNAT --to-destination 1.2.3.4", "to:1.2.3.4", "6   ", "tcp "],
    // Ports are read as strtoul does in base 0: hex, octal, blanks and "+"; the base ignores trailing text.
    [["-p", "tcp", "-j", "DNAT", "--to-destination", "1.1.1.1:0x50"], "-p tcp -j DNAT --to-destination 1.1.1.1:80", "to:1.1.1.1:80", "6   ", "tcp "],
    [["-p", "tcp", "-j", "DNAT", "--to-destination", "1.1.1.1:010"], "-p tcp -j DNAT --to-destination 1.1.1.1:8", "to:1.1.1.1:8", "6   ", "tcp "],
    [["-p", "tcp", "-j", "DNAT", "--to-destination", "1.1.1.1: 80"], "-p tcp -j DNAT --to-destination 1.1.1.1:80", "to:1.1.1.1:80", "6   ", "tcp "],
    [["-p", "tcp", "-j", "DNAT", "--to-destination", "1.1.1.1:80-+90"], "-p tcp -j DNAT --to-destination 1.1.1.1:80-90", "to:1.1.1.1:80-90", "6   ", "tcp "],
    [["-p", "tcp", "-j", "DNAT", "--to-destination", "1.1.1.1:80-90/0x10"], "-p tcp -j DNAT --to-destination 1.1.1.1:80-90/16", "to:1.1.1.1:80-90/16", "6   ", "tcp "],
    [["-p", "tcp", "-j", "DNAT", "--to-destination", "1.1.1.1:80-90/5x"], "-p tcp -j DNAT --to-destination 1.1.1.1:80-90/5", "to:1.1.1.1:80-90/5", "6   ", "tcp "],
    // Service names of any protocol in /etc/services, even AppleTalk's.
    [["-p", "tcp", "-j", "DNAT", "--to-destination", "1.1.1.1:ssh"], "-p tcp -j DNAT --to-destination 1.1.1.1:22", "to:1.1.1.1:22", "6   ", "tcp "],
    [["-p", "tcp", "-j", "DNAT", "--to-destination", ":rtmp"], "-p tcp -j DNAT --to-destination :1", "to::1", "6   ", "tcp "],
  ];
  for (const [args, save, column, protoNumeric, protoName] of cases) {
    it(args.join(" "), () => {
      const rules = appended(args);
      expect(savedRules(rules)).toEqual([`-A PREROUTING ${save}`]);
      expect(listed(rules, "PREROUTING", true)).toEqual([`DNAT       ${protoNumeric} --  0.0.0.0/0            0.0.0.0/0            ${column}`]);
      expect(listed(rules, "PREROUTING", false)).toEqual([`DNAT       ${protoName} --  anywhere             anywhere             ${column}`]);
    });
  }

  it("takes ports with an inverted protocol (iptables does not look at the !)", () => {
    const rules = appended(["!", "-p", "tcp", "-j", "DNAT", "--to-destination", ":80"]);
    expect(savedRules(rules)).toEqual(["-A PREROUTING ! -p tcp -j DNAT --to-destination :80"]);
    expect(listed(rules, "PREROUTING", true)).toEqual(["DNAT      !6    --  0.0.0.0/0            0.0.0.0/0            to::80"]);
  });

  it("prints its flags in a fixed order whatever the order given", () => {
    const rules = appended(["-p", "tcp", "-j", "DNAT", "--persistent", "--random", "--to-destination", "1.1.1.1:80"]);
    expect(savedRules(rules)).toEqual(["-A PREROUTING -p tcp -j DNAT --to-destination 1.1.1.1:80 --random --persistent"]);
  });

  it("shows in -L -v and -S as iptables does", () => {
    const rules = appended(["-p", "tcp", "-m", "tcp", "--dport", "80", "-j", "DNAT", "--to-destination", "10.0.0.1:8080"]);
    const verbose = runIptables(rules, ["-t", "nat", "-L", "PREROUTING", "-n", "-v", "--line-numbers"]).stdout.split("\n")[2];
    expect(verbose).toBe("1        0     0 DNAT       6    --  *      *       0.0.0.0/0            0.0.0.0/0            tcp dpt:80 to:10.0.0.1:8080");
    expect(runIptables(rules, ["-t", "nat", "-S", "PREROUTING"]).stdout).toBe(
      "-P PREROUTING ACCEPT\n-A PREROUTING -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.0.0.1:8080\n",
    );
  });

  it("keeps the range as the kernel's nf_nat_range2 numbers", () => {
    const rules = appended(["-p", "tcp", "-j", "DNAT", "--to-destination", "10.1.2.3-10.1.2.9:1000-2000/3000", "--random", "--persistent"]);
    expect(targetData(rules, "PREROUTING")).toEqual({
      flags: NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED | NF_NAT_RANGE_PROTO_OFFSET | NF_NAT_RANGE_PROTO_RANDOM | NF_NAT_RANGE_PERSISTENT,
      minAddr: 0x0a010203,
      maxAddr: 0x0a010209,
      minPort: 1000,
      maxPort: 2000,
      basePort: 3000,
    });
    expect([NF_NAT_RANGE_MAP_IPS, NF_NAT_RANGE_PROTO_SPECIFIED, NF_NAT_RANGE_PROTO_RANDOM, NF_NAT_RANGE_PERSISTENT, NF_NAT_RANGE_PROTO_OFFSET]).toEqual([1, 2, 4, 8, 32]);
  });

  it("is found by -C and -D only with the same range and flags", () => {
    const rules = appended(["-p", "tcp", "-j", "DNAT", "--to-destination", "1.1.1.1:80", "--random"]);
    const check = runIptables(rules, ["-t", "nat", "-C", "PREROUTING", "-p", "tcp", "-j", "DNAT", "--to-destination", "1.1.1.1:80"]);
    expect(check.stderr).toBe("uptables: Bad rule (does a matching rule exist in that chain?).\n");
    expect(check.exitCode).toBe(1);
    const del = runIptables(rules, ["-t", "nat", "-D", "PREROUTING", "-p", "tcp", "-j", "DNAT", "--random", "--to-destination", "1.1.1.1:80"]);
    expect(del.exitCode).toBe(0);
    expect(savedRules(rules)).toEqual([]);
  });
});

describe("DNAT refused as iptables refuses it", () => {
  // [arguments, message after "iptables v1.8.9 (nf_tables): "]; every one exits 2.
  const cases: [string[], string][] = [
    [["-j", "DNAT", "--to-destination", "1.1.1.1:1025-65535"], "Need TCP, UDP, SCTP or DCCP with port specification\n"],
    [["-p", "udplite", "-j", "DNAT", "--to-destination", ":80"], "Need TCP, UDP, SCTP or DCCP with port specification\n"],
    // The protocol counts as it stands when the option is read.
    [["-j", "DNAT", "--to-destination", "1.1.1.1:80", "-p", "tcp"], "Need TCP, UDP, SCTP or DCCP with port specification\n"],
    [["-j", "DNAT", "--to-destination", "1.1.1.1:abc"], "Need TCP, UDP, SCTP or DCCP with port specification\n"],
    [["-j", "DNAT", "--to-destination", "1.1.1.1", "--to-destination", "2.2.2.2"], 'DNAT: option "--to-destination" can only be used once.\n\n'],
    [["-p", "tcp", "-j", "DNAT", "--to-destination", "1.1.1.1-1.1.1.10:1025-65536"], "Port `65536' not valid\n"],
    [["-p", "tcp", "-j", "DNAT", "--to-destination", "1.1.1.1:1000-2000/0"], "Port `0' not valid\n"],
    [["-p", "tcp", "-j", "DNAT", "--to-destination", "1.1.1.1:1000-2000/65536"], "Port `65536' not valid\n"],
    [["-p", "tcp", "-j", "DNAT", "--to-destination", "1.1.1.1:echo-ssh"], "Port `echo-ssh' not valid\n"],
    [["-p", "tcp", "-j", "DNAT", "--to-destination", "1.1.1.1:80-ssh"], "Port `ssh' not valid\n"],
    [["-p", "tcp", "-j", "DNAT", "--to-destination", "1.1.1.1:ssh-90"], "Port `ssh-90' not valid\n"],
    [["-p", "tcp", "-j", "DNAT", "--to-destination", "1.1.1.1:"], "Port `' not valid\n"],
    [["-p", "tcp", "-j", "DNAT", "--to-destination", "1.1.1.1:-5"], "Port `-5' not valid\n"],
    [["-p", "tcp", "-j", "DNAT", "--to-destination", "1.1.1.1:80-"], "Port `' not valid\n"],
    [["-p", "tcp", "-j", "DNAT", "--to-destination", "1.1.1.1:80-90/"], "Port `' not valid\n"],
    [["-p", "tcp", "-j", "DNAT", "--to-destination", "1.1.1.1:99999999999999999999999"], "Port `99999999999999999999999' not valid\n"],
    [["-p", "tcp", "-j", "DNAT", "--to-destination", "1.1.1.1:80x"], "Garbage after port value: `x'\n"],
    [["-p", "tcp", "-j", "DNAT", "--to-destination", "1.1.1.1:80/5"], "Garbage after port value: `/5'\n"],
    [["-p", "tcp", "-j", "DNAT", "--to-destination", "1.1.1.1:80-90x"], "Garbage after port range: `x'\n"],
    [["-p", "tcp", "-j", "DNAT", "--to-destination", "1.1.1.1:90-80"], "Port range `80' funky\n"],
    [["-p", "tcp", "-j", "DNAT", "--to-destination", "1.1.1.1:80:90"], 'Bad IP address "1.1.1.1:80:90"\n'],
    [["-p", "tcp", "-j", "DNAT", "--to-destination", "1.1.1.1-1.1.1.2:80:90"], 'Bad IP address "1.1.1.2:80:90"\n'],
    [["-p", "tcp", "-j", "DNAT", "--to-destination", "1:80"], 'Bad IP address "1"\n'],
    [["-j", "DNAT", "--to-destination", "01.1.1.1"], 'Bad IP address "01.1.1.1"\n'],
    [["-j", "DNAT", "--to-destination", "1.1.1"], 'Bad IP address "1.1.1"\n'],
    [["-j", "DNAT", "--to-destination", "1.1.1.1-"], 'Bad IP address ""\n'],
    [["-j", "DNAT", "--to-destination", "1.1.1.1-x"], 'Bad IP address "x"\n'],
    [["-j", "DNAT", "--to-destination", ""], 'Bad IP address ""\n'],
    [["-p", "tcp", "-j", "DNAT", "--to-destination", "-1.1.1.1:80"], 'Bad IP address ""\n'],
    [["-j", "DNAT", "--to-destination", "[1.1.1.1]:80"], "Invalid address format\n"],
    [["-j", "DNAT"], 'DNAT: option "--to-destination" must be specified\n\n'],
    [["-j", "DNAT", "--to-destination", "1.1.1.1", "--random-fully"], 'unknown option "--random-fully"\n'],
    [["-j", "DNAT", "--to-destination", "1.1.1.1", "--random", "--random"], 'DNAT: option "--random" can only be used once.\n\n'],
    [["-j", "DNAT", "--to-destination", "1.1.1.1", "!", "--random"], 'DNAT: option "--random" cannot be inverted.\n\n'],
    [["-j", "DNAT", "!", "--to-destination", "1.1.1.1"], 'DNAT: option "--to-destination" cannot be inverted.\n\n'],
  ];
  for (const [args, message] of cases) {
    it(`${args.join(" ")} -> ${message.trim()}`, () => {
      const rules = new RuleSet();
      const out = runIptables(rules, ["-t", "nat", "-A", "PREROUTING", ...args]);
      expect(out.stderr).toBe(`${TAG}: ${message}${HINT}`);
      expect(out.exitCode).toBe(2);
      expect(savedRules(rules)).toEqual([]);
    });
  }
});

describe("DNAT only in the nat table, from PREROUTING and OUTPUT", () => {
  const kernelRefusal = (operation: string, chain: string): string =>
    `${TAG}:  ${operation} failed (Invalid argument): rule in chain ${chain}\n`;

  it("is accepted in OUTPUT", () => {
    const rules = appended(["-j", "DNAT", "--to-destination", "1.1.1.1"], "OUTPUT");
    expect(savedRules(rules)).toEqual(["-A OUTPUT -j DNAT --to-destination 1.1.1.1"]);
  });

  for (const chain of ["INPUT", "POSTROUTING"]) {
    it(`is refused by the kernel in ${chain}`, () => {
      const rules = new RuleSet();
      const out = runIptables(rules, ["-t", "nat", "-A", chain, "-j", "DNAT", "--to-destination", "1.1.1.1"]);
      expect(out.stderr).toBe(kernelRefusal("RULE_APPEND", chain));
      expect(out.exitCode).toBe(4);
      expect(savedRules(rules)).toEqual([]);
    });
  }

  it("names the operation: -I and -R", () => {
    const rules = new RuleSet();
    const insert = runIptables(rules, ["-t", "nat", "-I", "POSTROUTING", "-j", "DNAT", "--to-destination", "1.1.1.1"]);
    expect(insert.stderr).toBe(kernelRefusal("RULE_INSERT", "POSTROUTING"));
    expect(insert.exitCode).toBe(4);
    expect(runIptables(rules, ["-t", "nat", "-A", "POSTROUTING", "-j", "SNAT", "--to-source", "1.1.1.1"]).exitCode).toBe(0);
    const replace = runIptables(rules, ["-t", "nat", "-R", "POSTROUTING", "1", "-j", "DNAT", "--to-destination", "1.1.1.1"]);
    expect(replace.stderr).toBe(kernelRefusal("RULE_REPLACE", "POSTROUTING"));
    expect(replace.exitCode).toBe(4);
    expect(savedRules(rules)).toEqual(["-A POSTROUTING -j SNAT --to-source 1.1.1.1"]);
  });

  for (const [table, chain] of [["filter", "INPUT"], ["mangle", "PREROUTING"]] as const) {
    it(`is refused in the ${table} table, even from ${chain}`, () => {
      const rules = new RuleSet();
      const out = runIptables(rules, ["-t", table, "-A", chain, "-j", "DNAT", "--to-destination", "1.1.1.1"]);
      expect(out.stderr).toBe(kernelRefusal("RULE_APPEND", chain));
      expect(out.exitCode).toBe(4);
    });
  }

  it("is fine in a user chain until POSTROUTING jumps to it", () => {
    const rules = new RuleSet();
    const nat = (...args: string[]) => runIptables(rules, ["-t", "nat", ...args]);
    expect(nat("-N", "X").exitCode).toBe(0);
    expect(nat("-A", "X", "-j", "DNAT", "--to-destination", "1.1.1.1").exitCode).toBe(0);
    expect(nat("-A", "PREROUTING", "-j", "X").exitCode).toBe(0);
    expect(nat("-A", "OUTPUT", "-j", "X").exitCode).toBe(0);
    const post = nat("-A", "POSTROUTING", "-j", "X");
    expect(post.stderr).toBe(kernelRefusal("RULE_APPEND", "POSTROUTING"));
    expect(post.exitCode).toBe(4);
    const insert = nat("-I", "POSTROUTING", "-j", "X");
    expect(insert.stderr).toBe(kernelRefusal("RULE_INSERT", "POSTROUTING"));
    expect(insert.exitCode).toBe(4);
    expect(savedRules(rules)).toEqual(["-A PREROUTING -j X", "-A OUTPUT -j X", "-A X -j DNAT --to-destination 1.1.1.1"]);
    expect(runIptables(rules, ["-t", "nat", "-L", "X", "-n"]).stdout).toBe(
      "Chain X (2 references)\ntarget     prot opt source               destination         \nDNAT       0    --  0.0.0.0/0            0.0.0.0/0            to:1.1.1.1\n",
    );
  });

  it("is refused in a user chain that POSTROUTING already reaches, through another chain too", () => {
    const rules = new RuleSet();
    const nat = (...args: string[]) => runIptables(rules, ["-t", "nat", ...args]);
    nat("-N", "X");
    nat("-N", "Y");
    expect(nat("-A", "POSTROUTING", "-j", "Y").exitCode).toBe(0);
    const direct = nat("-A", "Y", "-j", "DNAT", "--to-destination", "1.1.1.1");
    expect(direct.stderr).toBe(kernelRefusal("RULE_APPEND", "Y"));
    expect(direct.exitCode).toBe(4);
    expect(nat("-A", "X", "-j", "DNAT", "--to-destination", "1.1.1.1").exitCode).toBe(0);
    const jump = nat("-A", "Y", "-j", "X");
    expect(jump.stderr).toBe(kernelRefusal("RULE_APPEND", "Y"));
    expect(jump.exitCode).toBe(4);
  });
});
