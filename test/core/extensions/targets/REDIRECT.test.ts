// -j REDIRECT against what iptables 1.8.9 (nf_tables) printed for the same commands in a
// scratch network namespace: iptables-save text, `iptables -L` lines, refusals and exit codes.
import { describe, expect, it } from "vitest";
import { TAG, HINT, savedRules, listed, appendedToNat } from "./nat-harness.ts";
import { RuleSet } from "../../../../src/core/rules/model.ts";
import { runIptables } from "../../../../src/core/iptables/run.ts";
import { NF_NAT_RANGE_PROTO_RANDOM, NF_NAT_RANGE_PROTO_SPECIFIED, type NatRange } from "../../../../src/core/extensions/targets/nat-range.ts";

const appended = (args: readonly string[], chain = "PREROUTING"): RuleSet => appendedToNat(chain, args);

describe("REDIRECT accepted as iptables accepts it", () => {
  // [arguments, iptables-save after "-A PREROUTING ", -L -n line, -L line]
  const cases: [string[], string, string, string][] = [
    [["-p", "tcp", "-j", "REDIRECT"], "-p tcp -j REDIRECT", "REDIRECT   6    --  0.0.0.0/0            0.0.0.0/0           ", "REDIRECT   tcp  --  anywhere             anywhere            "],
    [["-j", "REDIRECT"], "-j REDIRECT", "REDIRECT   0    --  0.0.0.0/0            0.0.0.0/0           ", "REDIRECT   all  --  anywhere             anywhere            "],
    [["-j", "REDIRECT", "--random"], "-j REDIRECT --random", "REDIRECT   0    --  0.0.0.0/0            0.0.0.0/0            random", "REDIRECT   all  --  anywhere             anywhere             random"],
    [["-p", "tcp", "-j", "REDIRECT", "--to-ports", "42-1234", "--random"], "-p tcp -j REDIRECT --to-ports 42-1234 --random", "REDIRECT   6    --  0.0.0.0/0            0.0.0.0/0            redir ports 42-1234 random", "REDIRECT   tcp  --  anywhere             anywhere             redir ports 42-1234 random"],
    [["-p", "tcp", "-j", "REDIRECT", "--to-ports", "0-0"], "-p tcp -j REDIRECT --to-ports 0", "REDIRECT   6    --  0.0.0.0/0            0.0.0.0/0            redir ports 0", "REDIRECT   tcp  --  anywhere             anywhere             redir ports 0"],
    [["-p", "udp", "-j", "REDIRECT", "--to-ports", "512-512"], "-p udp -j REDIRECT --to-ports 512", "REDIRECT   17   --  0.0.0.0/0            0.0.0.0/0            redir ports 512", "REDIRECT   udp  --  anywhere             anywhere             redir ports 512"],
    [["-p", "tcp", "-j", "REDIRECT", "--to-ports", "ftp-data"], "-p tcp -j REDIRECT --to-ports 20", "REDIRECT   6    --  0.0.0.0/0            0.0.0.0/0            redir ports 20", "REDIRECT   tcp  --  anywhere             anywhere             redir ports 20"],
    [["-p", "icmp", "-j", "REDIRECT", "--to-ports", "8080"], "-p icmp -j REDIRECT --to-ports 8080", "REDIRECT   1    --  0.0.0.0/0            0.0.0.0/0            redir ports 8080", "REDIRECT   icmp --  anywhere             anywhere             redir ports 8080"],
  ];
  for (const [args, save, numericLine, line] of cases) {
    it(args.join(" "), () => {
      const rules = appended(args);
      expect(savedRules(rules)).toEqual([`-A PREROUTING ${save}`]);
      expect(listed(rules, "PREROUTING", true)).toEqual([numericLine]);
      expect(listed(rules, "PREROUTING", false)).toEqual([line]);
    });
  }

  it("is accepted in OUTPUT and shows in -L -v", () => {
    const rules = appended(["-p", "tcp", "-j", "REDIRECT", "--to-ports", "8080", "--random"], "OUTPUT");
    expect(savedRules(rules)).toEqual(["-A OUTPUT -p tcp -j REDIRECT --to-ports 8080 --random"]);
    const verbose = runIptables(rules, ["-t", "nat", "-L", "OUTPUT", "-n", "-v", "--line-numbers"]).stdout.split("\n")[2];
    expect(verbose).toBe("1        0     0 REDIRECT   6    --  *      *       0.0.0.0/0            0.0.0.0/0            redir ports 8080 random");
  });

  it("keeps the ports as numbers", () => {
    const rules = appended(["-p", "tcp", "-j", "REDIRECT", "--to-ports", "42-1234", "--random"]);
    const target = rules.tables.get("nat")!.chains.get("PREROUTING")!.rules[0]!.target;
    expect(target.kind === "extension" ? (target.data as NatRange) : null).toEqual({
      flags: NF_NAT_RANGE_PROTO_SPECIFIED | NF_NAT_RANGE_PROTO_RANDOM,
      minAddr: 0,
      maxAddr: 0,
      minPort: 42,
      maxPort: 1234,
      basePort: 0,
    });
  });
});

describe("REDIRECT refused as iptables refuses it", () => {
  const cases: [string[], string][] = [
    [["-p", "tcp", "-j", "REDIRECT", "--to-ports", "65536"], "Port `65536' not valid\n"],
    [["-p", "tcp", "-j", "REDIRECT", "--to-ports", "42-1234/567"], "Shifted portmap ranges not supported with this kernel\n"],
    [["-p", "tcp", "-j", "REDIRECT", "--to-ports", "42/567"], "Garbage after port value: `/567'\n"],
    [["-p", "tcp", "-j", "REDIRECT", "--to-ports", "42-1234/0"], "Port `0' not valid\n"],
    [["-p", "tcp", "-j", "REDIRECT", "--to-ports", "10-ssh"], "Port `ssh' not valid\n"],
    [["-p", "tcp", "-j", "REDIRECT", "--to-ports", "ftp-ssh"], "Port `ftp-ssh' not valid\n"],
    [["-j", "REDIRECT", "--to-ports", "42"], "Need TCP, UDP, SCTP or DCCP with port specification\n"],
    [["-p", "tcp", "-j", "REDIRECT", "--to-ports", "80:90"], "Invalid port:port syntax - use dash\n"],
    [["-p", "tcp", "-j", "REDIRECT", "--to-ports", "80-90:5"], "Garbage after port range: `:5'\n"],
    [["-p", "tcp", "-j", "REDIRECT", "--to-ports", "90-80x"], "Port range `80x' funky\n"],
    [["-p", "tcp", "-j", "REDIRECT", "--to-ports", "0x"], "Garbage after port value: `x'\n"],
    [["-p", "tcp", "-j", "REDIRECT", "--to-ports", "08"], "Garbage after port value: `8'\n"],
    [["-p", "tcp", "-j", "REDIRECT", "--to-ports", "8080", "--random-fully"], 'unknown option "--random-fully"\n'],
    [["-p", "tcp", "-j", "REDIRECT", "--to-ports", "8080", "--to-ports", "8081"], 'REDIRECT: option "--to-ports" can only be used once.\n\n'],
    [["-p", "tcp", "-j", "REDIRECT", "--to-ports", "8080", "--random", "--random"], 'REDIRECT: option "--random" can only be used once.\n\n'],
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

describe("REDIRECT only in the nat table, from PREROUTING and OUTPUT", () => {
  const kernelRefusal = (chain: string): string => `${TAG}:  RULE_APPEND failed (Invalid argument): rule in chain ${chain}\n`;

  for (const chain of ["INPUT", "POSTROUTING"]) {
    it(`is refused by the kernel in ${chain}`, () => {
      const out = runIptables(new RuleSet(), ["-t", "nat", "-A", chain, "-p", "tcp", "-j", "REDIRECT"]);
      expect(out.stderr).toBe(kernelRefusal(chain));
      expect(out.exitCode).toBe(4);
    });
  }

  it("is refused in the raw table", () => {
    const out = runIptables(new RuleSet(), ["-t", "raw", "-A", "OUTPUT", "-j", "REDIRECT"]);
    expect(out.stderr).toBe(kernelRefusal("OUTPUT"));
    expect(out.exitCode).toBe(4);
  });

  it("is refused where a user chain holding it is reached from POSTROUTING", () => {
    const rules = new RuleSet();
    const nat = (...args: string[]) => runIptables(rules, ["-t", "nat", ...args]);
    nat("-N", "Y");
    expect(nat("-A", "POSTROUTING", "-j", "Y").exitCode).toBe(0);
    const out = nat("-A", "Y", "-j", "REDIRECT");
    expect(out.stderr).toBe(kernelRefusal("Y"));
    expect(out.exitCode).toBe(4);
  });
});
