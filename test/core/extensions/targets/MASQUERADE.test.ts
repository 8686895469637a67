// -j MASQUERADE against what iptables 1.8.9 (nf_tables) printed for the same commands in a
// scratch network namespace: iptables-save text, `iptables -L` lines, refusals and exit codes.
import { describe, expect, it } from "vitest";
import { TAG, HINT, savedRules, listed, appendedToNat } from "./nat-harness.ts";
import { RuleSet } from "../../../../src/core/rules/model.ts";
import { runIptables } from "../../../../src/core/iptables/run.ts";
import {
  NF_NAT_RANGE_PROTO_OFFSET,
  NF_NAT_RANGE_PROTO_RANDOM,
  NF_NAT_RANGE_PROTO_SPECIFIED,
  type NatRange,
} from "../../../../src/core/extensions/targets/nat-range.ts";

const appended = (args: readonly string[], chain = "POSTROUTING"): RuleSet => appendedToNat(chain, args);

describe("MASQUERADE accepted as iptables accepts it", () => {
  // [arguments, iptables-save after "-A POSTROUTING ", -L -n line, -L line]
  const cases: [string[], string, string, string][] = [
    [["-j", "MASQUERADE"], "-j MASQUERADE", "MASQUERADE  0    --  0.0.0.0/0            0.0.0.0/0           ", "MASQUERADE  all  --  anywhere             anywhere            "],
    [["-j", "MASQUERADE", "--random"], "-j MASQUERADE --random", "MASQUERADE  0    --  0.0.0.0/0            0.0.0.0/0            random", "MASQUERADE  all  --  anywhere             anywhere             random"],
    [["-j", "MASQUERADE", "--random-fully", "--random"], "-j MASQUERADE --random --random-fully", "MASQUERADE  0    --  0.0.0.0/0            0.0.0.0/0            random random-fully", "MASQUERADE  all  --  anywhere             anywhere             random random-fully"],
    [["-p", "tcp", "-j", "MASQUERADE", "--to-ports", "1024"], "-p tcp -j MASQUERADE --to-ports 1024", "MASQUERADE  6    --  0.0.0.0/0            0.0.0.0/0            masq ports: 1024", "MASQUERADE  tcp  --  anywhere             anywhere             masq ports: 1024"],
    [["-p", "tcp", "-j", "MASQUERADE", "--to-ports", "1024-65535", "--random"], "-p tcp -j MASQUERADE --to-ports 1024-65535 --random", "MASQUERADE  6    --  0.0.0.0/0            0.0.0.0/0            masq ports: 1024-65535 random", "MASQUERADE  tcp  --  anywhere             anywhere             masq ports: 1024-65535 random"],
    [["-p", "tcp", "-j", "MASQUERADE", "--to-ports", "0"], "-p tcp -j MASQUERADE --to-ports 0", "MASQUERADE  6    --  0.0.0.0/0            0.0.0.0/0            masq ports: 0", "MASQUERADE  tcp  --  anywhere             anywhere             masq ports: 0"],
    [["-p", "udp", "-j", "MASQUERADE", "--to-ports", "ssh"], "-p udp -j MASQUERADE --to-ports 22", "MASQUERADE  17   --  0.0.0.0/0            0.0.0.0/0            masq ports: 22", "MASQUERADE  udp  --  anywhere             anywhere             masq ports: 22"],
    [["-p", "udp", "-j", "MASQUERADE", "--to-port", "80"], "-p udp -j MASQUERADE --to-ports 80", "MASQUERADE  17   --  0.0.0.0/0            0.0.0.0/0            masq ports: 80", "MASQUERADE  udp  --  anywhere             anywhere             masq ports: 80"],
    // A shifted map is flagged but its base is not kept by revision 0.
    [["-p", "tcp", "-j", "MASQUERADE", "--to-ports", "80-90/5"], "-p tcp -j MASQUERADE --to-ports 80-90/0", "MASQUERADE  6    --  0.0.0.0/0            0.0.0.0/0            masq ports: 80-90/0", "MASQUERADE  tcp  --  anywhere             anywhere             masq ports: 80-90/0"],
    [["-p", "tcp", "-o", "eth0", "-s", "10.0.0.0/8", "-j", "MASQUERADE"], "-s 10.0.0.0/8 -o eth0 -p tcp -j MASQUERADE", "MASQUERADE  6    --  10.0.0.0/8           0.0.0.0/0           ", "MASQUERADE  tcp  --  10.0.0.0/8           anywhere            "],
  ];
  for (const [args, save, numericLine, line] of cases) {
    it(args.join(" "), () => {
      const rules = appended(args);
      expect(savedRules(rules)).toEqual([`-A POSTROUTING ${save}`]);
      expect(listed(rules, "POSTROUTING", true)).toEqual([numericLine]);
      expect(listed(rules, "POSTROUTING", false)).toEqual([line]);
    });
  }

  it("keeps the ports as numbers, never an address", () => {
    const rules = appended(["-p", "tcp", "-j", "MASQUERADE", "--to-ports", "1024-65535/7", "--random"]);
    const target = rules.tables.get("nat")!.chains.get("POSTROUTING")!.rules[0]!.target;
    expect(target.kind === "extension" ? (target.data as NatRange) : null).toEqual({
      flags: NF_NAT_RANGE_PROTO_SPECIFIED | NF_NAT_RANGE_PROTO_OFFSET | NF_NAT_RANGE_PROTO_RANDOM,
      minAddr: 0,
      maxAddr: 0,
      minPort: 1024,
      maxPort: 65535,
      basePort: 0,
    });
  });
});

describe("MASQUERADE refused as iptables refuses it", () => {
  const cases: [string[], string][] = [
    [["-p", "udp", "-j", "MASQUERADE", "--to-ports", "1024-65536"], "Port `65536' not valid\n"],
    [["-p", "udp", "-j", "MASQUERADE", "--to-ports", "-1"], "Port `-1' not valid\n"],
    [["-p", "udp", "-j", "MASQUERADE", "--to-ports", ":80"], "Port `:80' not valid\n"],
    [["-j", "MASQUERADE", "--to-ports", "80"], "Need TCP, UDP, SCTP or DCCP with port specification\n"],
    [["-p", "udp", "-j", "MASQUERADE", "--to-ports", "1.2.3.4:80"], "Garbage after port value: `.2.3.4:80'\n"],
    [["-p", "udp", "-j", "MASQUERADE", "--to-ports", "80", "--persistent"], 'unknown option "--persistent"\n'],
    [["-p", "udp", "-j", "MASQUERADE", "--to-ports", "80", "--to-ports", "90"], 'MASQUERADE: option "--to-ports" can only be used once.\n\n'],
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

describe("MASQUERADE only in the nat table, from POSTROUTING", () => {
  const kernelRefusal = (chain: string): string => `${TAG}:  RULE_APPEND failed (Invalid argument): rule in chain ${chain}\n`;

  for (const chain of ["PREROUTING", "INPUT", "OUTPUT"]) {
    it(`is refused by the kernel in ${chain}`, () => {
      const out = runIptables(new RuleSet(), ["-t", "nat", "-A", chain, "-j", "MASQUERADE"]);
      expect(out.stderr).toBe(kernelRefusal(chain));
      expect(out.exitCode).toBe(4);
    });
  }

  it("is refused in the filter table, even in a chain nothing reaches", () => {
    const rules = new RuleSet();
    expect(runIptables(rules, ["-N", "X"]).exitCode).toBe(0);
    const out = runIptables(rules, ["-A", "X", "-j", "MASQUERADE"]);
    expect(out.stderr).toBe(kernelRefusal("X"));
    expect(out.exitCode).toBe(4);
  });

  it("is fine in a user chain that only POSTROUTING reaches", () => {
    const rules = new RuleSet();
    const nat = (...args: string[]) => runIptables(rules, ["-t", "nat", ...args]);
    nat("-N", "X");
    expect(nat("-A", "X", "-j", "MASQUERADE").exitCode).toBe(0);
    const input = nat("-A", "INPUT", "-j", "X");
    expect(input.stderr).toBe(kernelRefusal("INPUT"));
    expect(input.exitCode).toBe(4);
    expect(nat("-A", "POSTROUTING", "-j", "X").exitCode).toBe(0);
    expect(savedRules(rules)).toEqual(["-A POSTROUTING -j X", "-A X -j MASQUERADE"]);
  });
});
