// -j SNAT against what iptables 1.8.9 (nf_tables) printed for the same commands in a scratch
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
  NF_NAT_RANGE_PROTO_RANDOM_FULLY,
  NF_NAT_RANGE_PROTO_SPECIFIED,
  type NatRange,
} from "../../../../src/core/extensions/targets/nat-range.ts";

const appended = (args: readonly string[], chain = "POSTROUTING"): RuleSet => appendedToNat(chain, args);

describe("SNAT accepted as iptables accepts it", () => {
  // [arguments, iptables-save after "-A POSTROUTING ", -L last column, protocol columns (-n / names)]
  const cases: [string[], string, string, string, string][] = [
    [["-j", "SNAT", "--to-source", "1.1.1.1"], "-j SNAT --to-source 1.1.1.1", "to:1.1.1.1", "0   ", "all "],
    [["-j", "SNAT", "--to-source", "1.1.1.1-1.1.1.10"], "-j SNAT --to-source 1.1.1.1-1.1.1.10", "to:1.1.1.1-1.1.1.10", "0   ", "all "],
    [["-j", "SNAT", "--to-source", "1.1.1.1", "--random"], "-j SNAT --to-source 1.1.1.1 --random", "to:1.1.1.1 random", "0   ", "all "],
    [["-j", "SNAT", "--to-source", "1.1.1.1", "--random-fully"], "-j SNAT --to-source 1.1.1.1 --random-fully", "to:1.1.1.1 random-fully", "0   ", "all "],
    [["-j", "SNAT", "--to-source", "1.1.1.1", "--random", "--persistent"], "-j SNAT --to-source 1.1.1.1 --random --persistent", "to:1.1.1.1 random persistent", "0   ", "all "],
    [["-j", "SNAT", "--to-source", "1.1.1.1", "--random", "--random-fully"], "-j SNAT --to-source 1.1.1.1 --random --random-fully", "to:1.1.1.1 random random-fully", "0   ", "all "],
    [["-j", "SNAT", "--to-source", "1.1.1.1", "--persistent", "--random-fully", "--random"], "-j SNAT --to-source 1.1.1.1 --random --random-fully --persistent", "to:1.1.1.1 random random-fully persistent", "0   ", "all "],
    [["-j", "SNAT", "--to-source", "1.1.1.1", "--random-f"], "-j SNAT --to-source 1.1.1.1 --random-fully", "to:1.1.1.1 random-fully", "0   ", "all "],
    [["-j", "SNAT", "--to", "1.1.1.1"], "-j SNAT --to-source 1.1.1.1", "to:1.1.1.1", "0   ", "all "],
    [["-p", "udp", "-j", "SNAT", "--to-source", ":1000-2000"], "-p udp -j SNAT --to-source :1000-2000", "to::1000-2000", "17  ", "udp "],
    [["-p", "udp", "-j", "SNAT", "--to-source", "1.1.1.1-1.1.1.9:1000-2000"], "-p udp -j SNAT --to-source 1.1.1.1-1.1.1.9:1000-2000", "to:1.1.1.1-1.1.1.9:1000-2000", "17  ", "udp "],
    // Revision 0 of SNAT has no room for the base of a shifted port map: it comes back as 0.
    [["-p", "tcp", "-j", "SNAT", "--to-source", "1.1.1.1:1000-2000/30"], "-p tcp -j SNAT --to-source 1.1.1.1:1000-2000/0", "to:1.1.1.1:1000-2000/0", "6   ", "tcp "],
  ];
  for (const [args, save, column, protoNumeric, protoName] of cases) {
    it(args.join(" "), () => {
      const rules = appended(args);
      expect(savedRules(rules)).toEqual([`-A POSTROUTING ${save}`]);
      expect(listed(rules, "POSTROUTING", true)).toEqual([`SNAT       ${protoNumeric} --  0.0.0.0/0            0.0.0.0/0            ${column}`]);
      expect(listed(rules, "POSTROUTING", false)).toEqual([`SNAT       ${protoName} --  anywhere             anywhere             ${column}`]);
    });
  }

  it("keeps the range as numbers, flagging a shifted map without its base", () => {
    const rules = appended(["-p", "tcp", "-j", "SNAT", "--to-source", "192.0.2.1-192.0.2.9:1024-2047/30", "--random-fully", "--persistent"]);
    expect(targetData(rules, "POSTROUTING")).toEqual({
      flags: NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED | NF_NAT_RANGE_PROTO_OFFSET | NF_NAT_RANGE_PROTO_RANDOM_FULLY | NF_NAT_RANGE_PERSISTENT,
      minAddr: 0xc0000201,
      maxAddr: 0xc0000209,
      minPort: 1024,
      maxPort: 2047,
      basePort: 0,
    });
    expect(NF_NAT_RANGE_PROTO_RANDOM_FULLY).toBe(16);
    expect(NF_NAT_RANGE_PROTO_RANDOM).toBe(4);
  });

  it("is found by -C only with the same flags", () => {
    const rules = appended(["-j", "SNAT", "--to-source", "1.1.1.1", "--random"]);
    const miss = runIptables(rules, ["-t", "nat", "-C", "POSTROUTING", "-j", "SNAT", "--to-source", "1.1.1.1"]);
    expect(miss.stderr).toBe("uptables: Bad rule (does a matching rule exist in that chain?).\n");
    expect(miss.exitCode).toBe(1);
    expect(runIptables(rules, ["-t", "nat", "-C", "POSTROUTING", "-j", "SNAT", "--random", "--to-source", "1.1.1.1"]).exitCode).toBe(0);
  });
});

describe("SNAT refused as iptables refuses it", () => {
  const cases: [string[], string][] = [
    [["-j", "SNAT", "--to-source", "1.1.1.1:1025-65535"], "Need TCP, UDP, SCTP or DCCP with port specification\n"],
    [["-j", "SNAT", "--to-source", "1.1.1.1", "--to-source", "2.2.2.2"], 'SNAT: option "--to-source" can only be used once.\n\n'],
    [["-p", "tcp", "-j", "SNAT", "--to-source", "1.1.1.1-1.1.1.10:1025-65536"], "Port `65536' not valid\n"],
    [["-p", "tcp", "-j", "SNAT", "--to-source", "1.1.1.1:1000/30"], "Garbage after port value: `/30'\n"],
    [["-j", "SNAT"], 'SNAT: option "--to-source" must be specified\n\n'],
    [["-j", "SNAT", "--random"], 'SNAT: option "--to-source" must be specified\n\n'],
    [["-j", "SNAT", "--to-source", "1.1.1.1", "--random-fully", "--random-fully"], 'SNAT: option "--random-fully" can only be used once.\n\n'],
    // "--rand" is a prefix of both --random and --random-fully.
    [["-j", "SNAT", "--to-source", "1.1.1.1", "--rand"], 'unknown option "--rand"\n'],
  ];
  for (const [args, message] of cases) {
    it(`${args.join(" ")} -> ${message.trim()}`, () => {
      const rules = new RuleSet();
      const out = runIptables(rules, ["-t", "nat", "-A", "POSTROUTING", ...args]);
      expect(out.stderr).toBe(`${TAG}: ${message}${HINT}`);
      expect(out.exitCode).toBe(2);
      expect(savedRules(rules)).toEqual([]);
    });
  }
});

describe("SNAT only in the nat table, from POSTROUTING and INPUT", () => {
  const kernelRefusal = (chain: string): string => `${TAG}:  RULE_APPEND failed (Invalid argument): rule in chain ${chain}\n`;

  it("is accepted in INPUT", () => {
    const rules = appended(["-j", "SNAT", "--to-source", "1.1.1.1"], "INPUT");
    expect(savedRules(rules)).toEqual(["-A INPUT -j SNAT --to-source 1.1.1.1"]);
  });

  for (const chain of ["PREROUTING", "OUTPUT"]) {
    it(`is refused by the kernel in ${chain}`, () => {
      const out = runIptables(new RuleSet(), ["-t", "nat", "-A", chain, "-j", "SNAT", "--to-source", "1.1.1.1"]);
      expect(out.stderr).toBe(kernelRefusal(chain));
      expect(out.exitCode).toBe(4);
    });
  }

  it("is refused in the filter table", () => {
    const out = runIptables(new RuleSet(), ["-t", "filter", "-A", "FORWARD", "-j", "SNAT", "--to-source", "1.1.1.1"]);
    expect(out.stderr).toBe(kernelRefusal("FORWARD"));
    expect(out.exitCode).toBe(4);
  });

  it("is fine in a user chain until OUTPUT jumps to it", () => {
    const rules = new RuleSet();
    const nat = (...args: string[]) => runIptables(rules, ["-t", "nat", ...args]);
    nat("-N", "X");
    expect(nat("-A", "X", "-j", "SNAT", "--to-source", "1.2.3.4").exitCode).toBe(0);
    expect(nat("-A", "INPUT", "-j", "X").exitCode).toBe(0);
    const out = nat("-A", "OUTPUT", "-j", "X");
    expect(out.stderr).toBe(kernelRefusal("OUTPUT"));
    expect(out.exitCode).toBe(4);
    expect(savedRules(rules)).toEqual(["-A INPUT -j X", "-A X -j SNAT --to-source 1.2.3.4"]);
  });
});
