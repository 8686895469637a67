// -m addrtype against what iptables 1.8.9 (nf_tables) printed for the same commands in a scratch
// network namespace: iptables-save text, `iptables -L` lines, refusals, exit codes and hook limits.
import { describe, expect, it } from "vitest";
import { RuleSet } from "../../../../src/core/rules/model.ts";
import { BACKEND, runIptables, runRestore, runSave, VERSION } from "../../../../src/core/iptables/run.ts";
import {
  XT_ADDRTYPE_INVERT_DEST,
  XT_ADDRTYPE_LIMIT_IFACE_IN,
  type AddrtypeMatch,
} from "../../../../src/core/extensions/matches/addrtype.ts";

const TAG = `uptables v${VERSION} (${BACKEND})`;
const HINT = "Try `uptables -h' or 'uptables --help' for more information.\n";

function run(rules: RuleSet, args: readonly string[]) {
  return runIptables(rules, args);
}

function appended(table: string, chain: string, args: readonly string[]): RuleSet {
  const rules = new RuleSet();
  const out = run(rules, ["-t", table, "-A", chain, ...args]);
  expect(out.stderr).toBe("");
  expect(out.exitCode).toBe(0);
  return rules;
}

function saved(rules: RuleSet, table: string): string[] {
  return runSave(rules, { counters: false, table }).stdout.split("\n").filter((l) => l.startsWith("-A "));
}

function listed(rules: RuleSet, table: string, chain: string, numeric: boolean): string[] {
  const out = run(rules, ["-t", table, "-L", chain, ...(numeric ? ["-n"] : [])]);
  expect(out.exitCode).toBe(0);
  return out.stdout.split("\n").slice(2, -1);
}

function refused(table: string, chain: string, args: readonly string[]): { stderr: string; exitCode: number } {
  const rules = new RuleSet();
  const out = run(rules, ["-t", table, "-A", chain, ...args]);
  expect(saved(rules, table)).toEqual([]);
  return { stderr: out.stderr, exitCode: out.exitCode };
}

const parameterProblem = (message: string) => ({ stderr: `${TAG}: ${message}\n${HINT}`, exitCode: 2 });
const kernelRefusal = (chain: string) => ({ stderr: `${TAG}:  RULE_APPEND failed (Invalid argument): rule in chain ${chain}\n`, exitCode: 4 });

describe("addrtype rules as iptables saves and lists them", () => {
  // [table, chain, arguments, iptables-save after "-A CHAIN ", -L -n line, -L line]
  const cases: [string, string, string[], string, string, string][] = [
    [
      "filter",
      "INPUT",
      ["-m", "addrtype", "--src-type", "LOCAL,UNICAST", "!", "--dst-type", "MULTICAST,BROADCAST", "--limit-iface-in"],
      "-m addrtype --src-type UNICAST,LOCAL ! --dst-type BROADCAST,MULTICAST --limit-iface-in",
      "           0    --  0.0.0.0/0            0.0.0.0/0            ADDRTYPE match src-type UNICAST,LOCAL dst-type !BROADCAST,MULTICAST limit-in",
      "           all  --  anywhere             anywhere             ADDRTYPE match src-type UNICAST,LOCAL dst-type !BROADCAST,MULTICAST limit-in",
    ],
    // Each word may be abbreviated and any case; the first type it begins wins (U is UNSPEC, X XRESOLVE).
    [
      "filter",
      "INPUT",
      ["-m", "addrtype", "--src-type", "loc,u,br"],
      "-m addrtype --src-type UNSPEC,LOCAL,BROADCAST",
      "           0    --  0.0.0.0/0            0.0.0.0/0            ADDRTYPE match src-type UNSPEC,LOCAL,BROADCAST",
      "           all  --  anywhere             anywhere             ADDRTYPE match src-type UNSPEC,LOCAL,BROADCAST",
    ],
    [
      "filter",
      "INPUT",
      ["-m", "addrtype", "--dst-type", "X"],
      "-m addrtype --dst-type XRESOLVE",
      "           0    --  0.0.0.0/0            0.0.0.0/0            ADDRTYPE match dst-type XRESOLVE",
      "           all  --  anywhere             anywhere             ADDRTYPE match dst-type XRESOLVE",
    ],
    [
      "filter",
      "OUTPUT",
      ["-m", "addrtype", "--src-type", "XRESOLVE,NAT,THROW,PROHIBIT,UNREACHABLE,BLACKHOLE,MULTICAST,ANYCAST,BROADCAST,LOCAL,UNICAST,UNSPEC"],
      "-m addrtype --src-type UNSPEC,UNICAST,LOCAL,BROADCAST,ANYCAST,MULTICAST,BLACKHOLE,UNREACHABLE,PROHIBIT,THROW,NAT,XRESOLVE",
      "           0    --  0.0.0.0/0            0.0.0.0/0            ADDRTYPE match src-type UNSPEC,UNICAST,LOCAL,BROADCAST,ANYCAST,MULTICAST,BLACKHOLE,UNREACHABLE,PROHIBIT,THROW,NAT,XRESOLVE",
      "           all  --  anywhere             anywhere             ADDRTYPE match src-type UNSPEC,UNICAST,LOCAL,BROADCAST,ANYCAST,MULTICAST,BLACKHOLE,UNREACHABLE,PROHIBIT,THROW,NAT,XRESOLVE",
    ],
    [
      "filter",
      "FORWARD",
      ["-m", "addrtype", "--dst-type", "LOCAL", "--limit-iface-in"],
      "-m addrtype --dst-type LOCAL --limit-iface-in",
      "           0    --  0.0.0.0/0            0.0.0.0/0            ADDRTYPE match dst-type LOCAL limit-in",
      "           all  --  anywhere             anywhere             ADDRTYPE match dst-type LOCAL limit-in",
    ],
    [
      "filter",
      "FORWARD",
      ["-m", "addrtype", "--dst-type", "LOCAL", "--limit-iface-out"],
      "-m addrtype --dst-type LOCAL --limit-iface-out",
      "           0    --  0.0.0.0/0            0.0.0.0/0            ADDRTYPE match dst-type LOCAL limit-out",
      "           all  --  anywhere             anywhere             ADDRTYPE match dst-type LOCAL limit-out",
    ],
    [
      "nat",
      "PREROUTING",
      ["-m", "addrtype", "--dst-type", "LOCAL", "--limit-iface-in"],
      "-m addrtype --dst-type LOCAL --limit-iface-in",
      "           0    --  0.0.0.0/0            0.0.0.0/0            ADDRTYPE match dst-type LOCAL limit-in",
      "           all  --  anywhere             anywhere             ADDRTYPE match dst-type LOCAL limit-in",
    ],
    [
      "nat",
      "POSTROUTING",
      ["-m", "addrtype", "--dst-type", "LOCAL", "--limit-iface-out"],
      "-m addrtype --dst-type LOCAL --limit-iface-out",
      "           0    --  0.0.0.0/0            0.0.0.0/0            ADDRTYPE match dst-type LOCAL limit-out",
      "           all  --  anywhere             anywhere             ADDRTYPE match dst-type LOCAL limit-out",
    ],
    [
      "nat",
      "POSTROUTING",
      ["-o", "br-dummy", "-m", "addrtype", "--src-type", "LOCAL", "-j", "MASQUERADE"],
      "-o br-dummy -m addrtype --src-type LOCAL -j MASQUERADE",
      "MASQUERADE  0    --  0.0.0.0/0            0.0.0.0/0            ADDRTYPE match src-type LOCAL",
      "MASQUERADE  all  --  anywhere             anywhere             ADDRTYPE match src-type LOCAL",
    ],
  ];
  for (const [table, chain, args, save, numericLine, line] of cases) {
    it(`${table} ${chain} ${args.join(" ")}`, () => {
      const rules = appended(table, chain, args);
      expect(saved(rules, table)).toEqual([`-A ${chain} ${save}`]);
      expect(listed(rules, table, chain, true)).toEqual([numericLine]);
      expect(listed(rules, table, chain, false)).toEqual([line]);
    });
  }

  it("keeps types and flags as the kernel's bits", () => {
    const rules = appended("filter", "INPUT", ["-m", "addrtype", "--src-type", "LOCAL", "!", "--dst-type", "UNSPEC,XRESOLVE", "--limit-iface-in"]);
    const data = rules.tables.get("filter")!.chains.get("INPUT")!.rules[0]!.matches[0]!.data as AddrtypeMatch;
    expect(data).toEqual({ source: 1 << 2, dest: (1 << 0) | (1 << 11), flags: XT_ADDRTYPE_INVERT_DEST | XT_ADDRTYPE_LIMIT_IFACE_IN });
  });

  it("prints Docker's nat rules as iptables does", () => {
    const rules = new RuleSet();
    for (const args of [
      ["-t", "nat", "-N", "DOCKER"],
      ["-t", "nat", "-A", "PREROUTING", "-m", "addrtype", "--dst-type", "LOCAL", "-j", "DOCKER"],
      ["-t", "nat", "-A", "OUTPUT", "!", "-d", "127.0.0.0/8", "-m", "addrtype", "--dst-type", "LOCAL", "-j", "DOCKER"],
    ]) {
      expect(run(rules, args).exitCode).toBe(0);
    }
    expect(saved(rules, "nat")).toEqual([
      "-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER",
      "-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER",
    ]);
    expect(listed(rules, "nat", "PREROUTING", true)).toEqual([
      "DOCKER     0    --  0.0.0.0/0            0.0.0.0/0            ADDRTYPE match dst-type LOCAL",
    ]);
    expect(listed(rules, "nat", "OUTPUT", true)).toEqual([
      "DOCKER     0    --  0.0.0.0/0           !127.0.0.0/8          ADDRTYPE match dst-type LOCAL",
    ]);
    expect(run(rules, ["-t", "nat", "-S", "OUTPUT"]).stdout).toBe(
      "-P OUTPUT ACCEPT\n-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER\n",
    );
  });
});

describe("addrtype refusals as iptables words them", () => {
  const cases: [string[], string][] = [
    [["-m", "addrtype"], "addrtype: you must specify --src-type or --dst-type"],
    [["-m", "addrtype", "--limit-iface-in"], "addrtype: you must specify --src-type or --dst-type"],
    // The missing type is reported before the clash of the two limits.
    [["-m", "addrtype", "--limit-iface-in", "--limit-iface-out"], "addrtype: you must specify --src-type or --dst-type"],
    [["-m", "addrtype", "--src-type", "wrong"], 'addrtype: bad type "wrong"'],
    [["-m", "addrtype", "--src-type", "LOCAL,wrong,UNICAST"], "addrtype: bad type `wrong,UNICAST'"],
    [["-m", "addrtype", "--src-type", "wrong,UNICAST"], "addrtype: bad type `wrong,UNICAST'"],
    [["-m", "addrtype", "--src-type", "X,Y"], 'addrtype: bad type "Y"'],
    [["-m", "addrtype", "--src-type", "LOCAL,"], 'addrtype: bad type ""'],
    [["-m", "addrtype", "--src-type", ",LOCAL"], "addrtype: bad type `,LOCAL'"],
    [["-m", "addrtype", "--src-type", ""], 'addrtype: bad type ""'],
    [["-m", "addrtype", "--src-type", "LOCALX"], 'addrtype: bad type "LOCALX"'],
    [["-m", "addrtype", "--src-type", "LOCAL", "--src-type", "UNICAST"], 'addrtype: option "--src-type" can only be used once.\n'],
    [["-m", "addrtype", "--dst-type", "LOCAL", "--dst-type", "LOCAL"], 'addrtype: option "--dst-type" can only be used once.\n'],
    [["-m", "addrtype", "--src-type", "LOCAL", "--limit-iface-in", "--limit-iface-in"], 'addrtype: option "--limit-iface-in" can only be used once.\n'],
    [
      ["-m", "addrtype", "--src-type", "LOCAL", "--limit-iface-in", "--limit-iface-out"],
      'addrtype: option "--limit-iface-in" cannot be used together with "--limit-iface-out".\n',
    ],
    [
      ["-m", "addrtype", "--src-type", "LOCAL", "--limit-iface-out", "--limit-iface-in"],
      'addrtype: option "--limit-iface-in" cannot be used together with "--limit-iface-out".\n',
    ],
    [["-m", "addrtype", "--src-type", "LOCAL", "!", "--limit-iface-in"], 'addrtype: option "--limit-iface-in" cannot be inverted.\n'],
    [["-m", "addrtype", "--dst-type", "LOCAL", "!", "--limit-iface-out"], 'addrtype: option "--limit-iface-out" cannot be inverted.\n'],
  ];
  for (const [args, message] of cases) {
    it(args.join(" "), () => {
      expect(refused("filter", "INPUT", args)).toEqual(parameterProblem(message));
    });
  }
});

describe("addrtype interface limits only where the hook has that interface", () => {
  const cases: [string, string, string][] = [
    ["filter", "INPUT", "--limit-iface-out"],
    ["filter", "OUTPUT", "--limit-iface-in"],
    ["nat", "PREROUTING", "--limit-iface-out"],
    ["nat", "INPUT", "--limit-iface-out"],
    ["nat", "OUTPUT", "--limit-iface-in"],
    ["nat", "POSTROUTING", "--limit-iface-in"],
  ];
  for (const [table, chain, limit] of cases) {
    it(`refuses ${limit} in ${table} ${chain} as the kernel does (exit 4)`, () => {
      expect(refused(table, chain, ["-m", "addrtype", "--dst-type", "LOCAL", limit])).toEqual(kernelRefusal(chain));
    });
  }

  it("accepts --limit-iface-in in nat INPUT and --limit-iface-out in OUTPUT", () => {
    appended("nat", "INPUT", ["-m", "addrtype", "--dst-type", "LOCAL", "--limit-iface-in"]);
    appended("filter", "OUTPUT", ["-m", "addrtype", "--dst-type", "LOCAL", "--limit-iface-out"]);
  });

  it("names the line in iptables-restore's words", () => {
    const out = runRestore(new RuleSet(), "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m addrtype --dst-type LOCAL --limit-iface-out\nCOMMIT\n", {});
    expect(out.stderr).toBe(`uptables-restore v${VERSION} (${BACKEND}): \nline 3: RULE_APPEND failed (Invalid argument): rule in chain INPUT\n`);
    expect(out.exitCode).toBe(4);
  });
});
