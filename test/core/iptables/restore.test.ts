// uptables-restore as iptables-restore 1.8.9 (nf_tables) reads a file: what it refuses, at which
// line and in which words, what it prints, and that a refused file changes nothing. Every expected
// text here was taken from the kernel's iptables-restore (test/differential compares the rest).
import { describe, expect, it } from "vitest";
import { splitRestoreLine } from "../../../src/core/iptables/argv.ts";
import { runRestore, runSave, VERSION, BACKEND } from "../../../src/core/iptables/run.ts";
import { formatSave } from "../../../src/core/iptables/save.ts";
import { restore } from "../../../src/core/iptables/restore.ts";
import { RuleSet } from "../../../src/core/rules/model.ts";

const TAG = `uptables-restore v${VERSION} (${BACKEND})`;
const HINT = "Try `uptables-restore -h' or 'uptables-restore --help' for more information.\n";

function restored(text: string, opts = {}): { rules: RuleSet; out: ReturnType<typeof runRestore> } {
  const rules = new RuleSet();
  const out = runRestore(rules, text, opts);
  return { rules, out };
}

const save = (rules: RuleSet, counters = false): string => runSave(rules, { counters, table: undefined }).stdout;

const GOOD = "*filter\n:INPUT DROP [5:500]\n:USER - [0:0]\n[1:2] -A INPUT -j USER\n-A USER -j ACCEPT\nCOMMIT\n";

describe("uptables-restore: what a file means", () => {
  it("restores tables, policies, chains and rules; counters only with -c", () => {
    const plain = restored(GOOD);
    expect(plain.out.exitCode).toBe(0);
    expect(save(plain.rules, true)).toBe(
      "*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:USER - [0:0]\n[0:0] -A INPUT -j USER\n[0:0] -A USER -j ACCEPT\nCOMMIT\n",
    );
    const counted = restored(GOOD, { counters: true });
    expect(save(counted.rules, true)).toContain(":INPUT DROP [5:500]\n");
    expect(save(counted.rules, true)).toContain("[1:2] -A INPUT -j USER\n");
  });

  it("flushes a table it names (deleting it when the file gives it nothing), unless -n", () => {
    const rules = new RuleSet();
    runRestore(rules, GOOD, {});
    expect(runRestore(rules, "*filter\nCOMMIT\n", {}).exitCode).toBe(0);
    expect(save(rules)).toBe("");
    runRestore(rules, GOOD, {});
    runRestore(rules, "*filter\n-A INPUT -j DROP\nCOMMIT\n", { noflush: true });
    expect(save(rules)).toContain("-A INPUT -j USER\n-A INPUT -j DROP\n");
  });

  it("with -n flushes a user chain declared again, and keeps the rules of a built-in one", () => {
    const rules = new RuleSet();
    runRestore(rules, GOOD, {});
    runRestore(rules, "*filter\n:USER - [0:0]\n:INPUT ACCEPT [0:0]\nCOMMIT\n", { noflush: true });
    expect(save(rules)).toBe("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:USER - [0:0]\n-A INPUT -j USER\nCOMMIT\n");
  });

  it("takes words as iptables-restore splits them", () => {
    expect(splitRestoreLine('-m comment --comment "two words" -j X\n')).toEqual(["-m", "comment", "--comment", "two words", "-j", "X"]);
    expect(splitRestoreLine('a"b c"d\n')).toEqual(["ab c", "d"]);
    expect(splitRestoreLine('"a""b"\n')).toEqual(["a", "b"]);
    expect(splitRestoreLine('""\n')).toEqual([""]);
    expect(splitRestoreLine('"a\\"b\\\\c\\x"\n')).toEqual(['a"b\\cx']);
    expect(splitRestoreLine('a\\"b c\n')).toEqual(["a\\b c\n"]);
    expect(splitRestoreLine("'two words'\n")).toEqual(["'two", "words'"]);
    expect(() => splitRestoreLine(`${"x".repeat(1024)}\n`)).toThrow("Parameter too long!");
    expect(splitRestoreLine(`${"x".repeat(1023)}\n`)).toHaveLength(1);
  });

  it("skips only empty lines and comments at the start of a line", () => {
    expect(restored("\n# c\n*filter\n# c\n\nCOMMIT\n").out.exitCode).toBe(0);
    expect(restored("*filter\n  # c\nCOMMIT\n").out.stderr).toBe(`Bad argument \`#'\nError occurred at line: 2\n${HINT}`);
    expect(restored("*filter\n\t\nCOMMIT\n").out.stderr).toBe(`${TAG}: no command specified\nError occurred at line: 2\n${HINT}`);
    expect(restored("   \n").out.stderr).toBe("uptables-restore: line 1 failed\n");
    expect(restored("*filter\r\nCOMMIT\r\n").out.stderr).toBe(
      `${TAG}: uptables-restore: line 1 table name 'filter\r' invalid\nError occurred at line: 1\n${HINT}`,
    );
  });

  it("skips a line with -6, and stops with success at -V", () => {
    const six = restored("*filter\n-6 -A INPUT -j ACCEPT\n-A INPUT -j DROP\nCOMMIT\n");
    expect(save(six.rules)).toContain("-A INPUT -j DROP\nCOMMIT\n");
    expect(save(six.rules)).not.toContain("ACCEPT\nCOMMIT");
    const version = restored("*filter\n-A INPUT -j ACCEPT\nCOMMIT\n*nat\n-V\n-A INPUT -j ACCEPT\n");
    expect(version.out).toMatchObject({ exitCode: 0, stdout: `${TAG}\n` });
    expect(save(version.rules)).toBe("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\nCOMMIT\n");
  });
});

describe("uptables-restore: refusals", () => {
  const cases: [string, string, string, number][] = [
    ["*bogus\nCOMMIT\n", "", `${TAG}: uptables-restore: line 1 table name 'bogus' invalid\nError occurred at line: 1\n${HINT}`, 2],
    ["*\n", "", `${TAG}: uptables-restore: line 1 table name invalid\nError occurred at line: 1\n${HINT}`, 2],
    ["*filter\n:\n", "", `${TAG}: uptables-restore: line 2 chain name invalid\nError occurred at line: 2\n${HINT}`, 2],
    ["*filter\n:INPUT\n", "", `${TAG}: uptables-restore: line 2 policy invalid\nError occurred at line: 2\n${HINT}`, 2],
    ["*filter\n:INPUT BOGUS [0:0]\nCOMMIT\n", "", "uptables-restore: line 2 failed: Bad policy name.\n", 1],
    ["*filter\n:ACCEPT - [0:0]\nCOMMIT\n", "", `${TAG}: chain name may not clash with target name\nError occurred at line: 2\n${HINT}`, 2],
    ["*filter\n:INPUT DROP\nCOMMIT\n", "-c", `${TAG}: invalid policy counters for chain 'INPUT'\nError occurred at line: 2\n${HINT}`, 2],
    ["*filter\n[1:2 -A INPUT\nCOMMIT\n", "", `${TAG}: Bad line 2: need ]\nError occurred at line: 2\n${HINT}`, 2],
    ["*filter\n[a:b] -A INPUT\nCOMMIT\n", "-c", `${TAG}: -c packet counter not numeric\nError occurred at line: 2\n${HINT}`, 2],
    ["*filter\n-A INPUT -t filter\nCOMMIT\n", "", `${TAG}: The -t option cannot be used in uptables-restore.\n\nError occurred at line: 2\n${HINT}`, 2],
    ["*filter\n-A INPUT -w\nCOMMIT\n", "", `${TAG}: You cannot use \`-w' from uptables-restore\nError occurred at line: 2\n${HINT}`, 2],
    ["*filter\n-A INPUT\n*nat\n", "", `Bad argument \`*nat'\nError occurred at line: 3\n${HINT}`, 2],
    ["*filter\nCOMMIT\nCOMMIT\n", "", "uptables-restore: line 3 failed\n", 1],
    ["*filter\n-A INPUT\n", "", "uptables-restore: COMMIT expected at line 3\n", 1],
    // Carried out at COMMIT: a jump to a chain not declared yet names the COMMIT line ...
    ["*filter\n-A INPUT -j LATER\n:LATER - [0:0]\nCOMMIT\n", "", `${TAG}: Chain 'LATER' does not exist\nError occurred at line: 4\n${HINT}`, 2],
    // ... a command the rule set refuses its own line, and a parsing error further on comes first.
    ["*filter\n-A NOSUCH -j ACCEPT\nCOMMIT\n", "", "uptables-restore: line 2 failed: No chain/target/match by that name.\n", 1],
    ["*filter\n-A NOSUCH\n-A INPUT -p tcp --dport 99999\nCOMMIT\n", "", `${TAG}: invalid port/service \`99999' specified\nError occurred at line: 3\n${HINT}`, 2],
    // The kernel's refusals: every refused rule, each with its line.
    [
      "*nat\n-A INPUT -j DNAT --to-destination 1.2.3.4\n-A PREROUTING -j ACCEPT\n-A POSTROUTING -j DNAT --to-destination 1.2.3.4\nCOMMIT\n",
      "",
      `${TAG}: \nline 2: RULE_APPEND failed (Invalid argument): rule in chain INPUT\nline 4: RULE_APPEND failed (Invalid argument): rule in chain POSTROUTING\n`,
      4,
    ],
    // A loop is found when the table is validated: the rule that closes it and every later one.
    [
      "*filter\n:A - [0:0]\n:B - [0:0]\n-A INPUT -j A\n-A A -j B\n-A B -j A\n-A INPUT -j ACCEPT\n-A B -j ACCEPT\nCOMMIT\n",
      "",
      `${TAG}: \nline 6: RULE_APPEND failed (Too many links): rule in chain B\nline 7: RULE_APPEND failed (Too many links): rule in chain INPUT\nline 8: RULE_APPEND failed (Too many links): rule in chain B\n`,
      4,
    ],
    ["*filter\n-N X\n-E X Y\nCOMMIT\n", "", `${TAG}: \nline 3: CHAIN_RENAME failed (No such file or directory): chain Y\n`, 4],
  ];
  for (const [text, options, stderr, exitCode] of cases) {
    it(`${JSON.stringify(text)} ${options}`, () => {
      const rules = new RuleSet();
      runRestore(rules, GOOD, {});
      const before = formatSave(rules, { counters: true, kernelView: true });
      const out = runRestore(rules, text, { counters: options.includes("-c") });
      expect(out.stderr).toBe(stderr);
      expect(out.exitCode).toBe(exitCode);
      // A refused file changes nothing, whichever table it failed in.
      expect(formatSave(rules, { counters: true, kernelView: true })).toBe(before);
    });
  }

  it("refuses a whole file for an error in its last table (iptables-nft would keep the first)", () => {
    const rules = new RuleSet();
    const out = runRestore(rules, "*filter\n-A INPUT -j ACCEPT\nCOMMIT\n*nat\n-A INPUT -j DNAT --to-destination 1.2.3.4\nCOMMIT\n", {});
    expect(out.exitCode).toBe(4);
    expect(rules.tables.size).toBe(0);
  });

  it("with -t parses only: nothing changes, and nothing is checked beyond parsing", () => {
    const rules = new RuleSet();
    const out = runRestore(rules, "*filter\n-A INPUT -j NOSUCH\nCOMMIT\n", { test: true });
    expect(out.exitCode).toBe(0);
    expect(rules.tables.size).toBe(0);
  });

  it("with -T skips the other tables whole, bad lines and all", () => {
    const { rules, out } = restored("*filter\nbogus\n:INPUT\nCOMMIT\n*nat\n-A INPUT -j ACCEPT\nCOMMIT\n", { table: "nat" });
    expect(out.exitCode).toBe(0);
    expect([...rules.tables.keys()]).toEqual(["nat"]);
  });
});

describe("uptables-restore: what it prints", () => {
  it("warns as the matches and targets do, before an error", () => {
    const out = restored("*filter\n-A INPUT -m iprange --src-range 10.0.0.9-10.0.0.1\n-A INPUT -j REJECT --reject-with echo-reply\nCOMMIT\n").out;
    expect(out.stderr).toBe(
      "xt_iprange: range 10.0.0.9-10.0.0.1 is reversed and will never match\n--reject-with echo-reply no longer supported\n" +
        `${TAG}: unknown reject type "echo-reply"\nError occurred at line: 3\n${HINT}`,
    );
  });

  it("with -v echoes comments and shows each table's flush and each rule, at its COMMIT", () => {
    const rules = new RuleSet();
    runRestore(rules, GOOD, {});
    const out = runRestore(rules, "# one\n*filter\n:NEW - [0:0]\n-A NEW -j ACCEPT\n# two\nCOMMIT\n", { verbose: 1 });
    expect(out.stdout).toBe(
      "# one\n# two\nFlushing chain `INPUT'\nFlushing chain `FORWARD'\nFlushing chain `OUTPUT'\nFlushing chain `USER'\nDeleting chain `USER'\n" +
        "ACCEPT  all opt -- in * out *  0.0.0.0/0  -> 0.0.0.0/0  \n",
    );
  });
});

describe("uptables' own rule-set files", () => {
  it("read back what was written: empty tables, chains named like verdicts, newlines in comments", () => {
    const rules = new RuleSet();
    // An unterminated quote takes the newline into the comment.
    expect(runRestore(rules, '*nat\n:X - [0:0]\nCOMMIT\n*filter\n-A INPUT -m comment --comment "a\nCOMMIT\n', {}).exitCode).toBe(0);
    rules.table("raw");
    rules.table("filter").chains.set("ACCEPT", { name: "ACCEPT", hook: null, policy: null, policyCounters: { packets: 0, bytes: 0 }, policyCounted: false, rules: [] });
    const file = formatSave(rules, { counters: true, kernelView: true });
    const back = new RuleSet();
    restore(back, file, { counters: true, ruleSetFile: true });
    expect(formatSave(back, { counters: true, kernelView: true })).toBe(file);
    expect(save(back)).toContain('-A INPUT -m comment --comment "a\n"');
  });
});
