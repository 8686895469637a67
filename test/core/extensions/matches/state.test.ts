// -m state against what iptables 1.8.9 (nf_tables) printed for the same commands in a scratch
// network namespace: iptables-nft keeps `-m state --state` in its save text (no conversion to
// conntrack), prints "state NEW" in -L, and words its refusals as below.
import { describe, expect, it } from "vitest";
import { RuleSet } from "../../../../src/core/rules/model.ts";
import { BACKEND, runIptables, runSave, VERSION } from "../../../../src/core/iptables/run.ts";
import type { StateMatch } from "../../../../src/core/extensions/matches/state.ts";

const TAG = `uptables v${VERSION} (${BACKEND})`;
const HINT = "Try `uptables -h' or 'uptables --help' for more information.\n";

function appended(args: readonly string[]): RuleSet {
  const rules = new RuleSet();
  const out = runIptables(rules, ["-A", "INPUT", ...args]);
  expect(out.stderr).toBe("");
  expect(out.exitCode).toBe(0);
  return rules;
}

function saved(rules: RuleSet): string[] {
  return runSave(rules, { counters: false, table: "filter" }).stdout.split("\n").filter((l) => l.startsWith("-A "));
}

function listed(rules: RuleSet, numeric: boolean): string[] {
  const out = runIptables(rules, ["-L", "INPUT", ...(numeric ? ["-n"] : [])]);
  expect(out.exitCode).toBe(0);
  return out.stdout.split("\n").slice(2, -1);
}

describe("state rules as iptables saves and lists them", () => {
  // [arguments, iptables-save after "-A INPUT ", -L -n line, -L line]
  const cases: [string[], string, string, string][] = [
    [
      ["-m", "state", "--state", "NEW"],
      "-m state --state NEW",
      "           0    --  0.0.0.0/0            0.0.0.0/0            state NEW",
      "           all  --  anywhere             anywhere             state NEW",
    ],
    [
      ["-m", "state", "!", "--state", "NEW,established,rel"],
      "-m state ! --state NEW,RELATED,ESTABLISHED",
      "           0    --  0.0.0.0/0            0.0.0.0/0            ! state NEW,RELATED,ESTABLISHED",
      "           all  --  anywhere             anywhere             ! state NEW,RELATED,ESTABLISHED",
    ],
    [
      ["-m", "state", "--state", "UNTRACKED,INVALID,RELATED,ESTABLISHED,NEW"],
      "-m state --state INVALID,NEW,RELATED,ESTABLISHED,UNTRACKED",
      "           0    --  0.0.0.0/0            0.0.0.0/0            state INVALID,NEW,RELATED,ESTABLISHED,UNTRACKED",
      "           all  --  anywhere             anywhere             state INVALID,NEW,RELATED,ESTABLISHED,UNTRACKED",
    ],
    [
      ["-m", "state", "--state", "N"],
      "-m state --state NEW",
      "           0    --  0.0.0.0/0            0.0.0.0/0            state NEW",
      "           all  --  anywhere             anywhere             state NEW",
    ],
    [
      ["-m", "state", "--state", "I"],
      "-m state --state INVALID",
      "           0    --  0.0.0.0/0            0.0.0.0/0            state INVALID",
      "           all  --  anywhere             anywhere             state INVALID",
    ],
    [
      ["-m", "state", "--state", "NEW", "-m", "conntrack", "--ctstate", "NEW"],
      "-m state --state NEW -m conntrack --ctstate NEW",
      "           0    --  0.0.0.0/0            0.0.0.0/0            state NEW ctstate NEW",
      "           all  --  anywhere             anywhere             state NEW ctstate NEW",
    ],
    [
      ["-m", "state", "--state", "RELATED,ESTABLISHED", "-j", "ACCEPT"],
      "-m state --state RELATED,ESTABLISHED -j ACCEPT",
      "ACCEPT     0    --  0.0.0.0/0            0.0.0.0/0            state RELATED,ESTABLISHED",
      "ACCEPT     all  --  anywhere             anywhere             state RELATED,ESTABLISHED",
    ],
    [
      ["-p", "tcp", "-m", "state", "--state", "NEW", "-m", "tcp", "--dport", "22", "-j", "ACCEPT"],
      "-p tcp -m state --state NEW -m tcp --dport 22 -j ACCEPT",
      "ACCEPT     6    --  0.0.0.0/0            0.0.0.0/0            state NEW tcp dpt:22",
      "ACCEPT     tcp  --  anywhere             anywhere             state NEW tcp dpt:ssh",
    ],
  ];
  for (const [args, save, numericLine, line] of cases) {
    it(args.join(" "), () => {
      const rules = appended(args);
      expect(saved(rules)).toEqual([`-A INPUT ${save}`]);
      expect(listed(rules, true)).toEqual([numericLine]);
      expect(listed(rules, false)).toEqual([line]);
    });
  }

  it("keeps the states as xt_conntrack's bits", () => {
    const rules = appended(["-m", "state", "!", "--state", "INVALID,ESTABLISHED,RELATED,NEW,UNTRACKED"]);
    const data = rules.tables.get("filter")!.chains.get("INPUT")!.rules[0]!.matches[0]!.data as StateMatch;
    expect(data).toEqual({ stateMask: 0b1_0000_1111, inverted: true, given: true });
  });
});

describe("state refusals as iptables words them", () => {
  const cases: [string[], string][] = [
    [["-m", "state"], 'state: option "--state" must be specified\n'],
    [["-m", "state", "--state", "X"], 'Bad state "X"'],
    [["-m", "state", "--state", "SNAT"], 'Bad state "SNAT"'],
    [["-m", "state", "--state", "wrong,NEW"], 'Bad state "wrong,NEW"'],
    [["-m", "state", "--state", ",NEW"], 'Bad state ",NEW"'],
    [["-m", "state", "--state", "NEW,"], '"--state" requires a list of states with no spaces, e.g. ESTABLISHED,RELATED'],
    [["-m", "state", "--state", ""], '"--state" requires a list of states with no spaces, e.g. ESTABLISHED,RELATED'],
    [["-m", "state", "--state", "NEW", "--state", "NEW"], 'state: option "--state" can only be used once.\n'],
    [["-m", "state", "--state"], 'option "--state" requires an argument'],
  ];
  for (const [args, message] of cases) {
    it(args.join(" "), () => {
      const rules = new RuleSet();
      const out = runIptables(rules, ["-A", "INPUT", ...args]);
      expect({ stderr: out.stderr, exitCode: out.exitCode }).toEqual({ stderr: `${TAG}: ${message}\n${HINT}`, exitCode: 2 });
      expect(saved(rules)).toEqual([]);
    });
  }

  it("refuses a stray word after -m state", () => {
    const out = runIptables(new RuleSet(), ["-A", "INPUT", "-m", "state", "wrong"]);
    expect(out.exitCode).toBe(2);
  });
});
