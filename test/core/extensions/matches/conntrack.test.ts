// -m conntrack against what iptables 1.8.9 (nf_tables) printed for the same commands in a scratch
// network namespace: iptables-save text and order, `iptables -L` with and without -n, refusals.
import { describe, expect, it } from "vitest";
import { RuleSet } from "../../../../src/core/rules/model.ts";
import { BACKEND, runIptables, runSave, VERSION } from "../../../../src/core/iptables/run.ts";
import {
  CT_STATE_DNAT,
  CT_STATE_ESTABLISHED,
  CT_STATE_RELATED,
  IPS_ASSURED,
  IPS_EXPECTED,
  XT_CONNTRACK_DIRECTION,
  XT_CONNTRACK_EXPIRES,
  XT_CONNTRACK_ORIGDST,
  XT_CONNTRACK_ORIGSRC_PORT,
  XT_CONNTRACK_PROTO,
  XT_CONNTRACK_STATE,
  XT_CONNTRACK_STATUS,
  type ConntrackMatch,
} from "../../../../src/core/extensions/matches/conntrack.ts";

const TAG = `uptables v${VERSION} (${BACKEND})`;
const HINT = "Try `uptables -h' or 'uptables --help' for more information.\n";

function appended(args: readonly string[], chain = "INPUT"): RuleSet {
  const rules = new RuleSet();
  const out = runIptables(rules, ["-A", chain, ...args]);
  expect(out.stderr).toBe("");
  expect(out.exitCode).toBe(0);
  return rules;
}

function saved(rules: RuleSet): string[] {
  return runSave(rules, { counters: false, table: "filter" }).stdout.split("\n").filter((l) => l.startsWith("-A "));
}

function listed(rules: RuleSet, chain: string, numeric: boolean): string[] {
  const out = runIptables(rules, ["-L", chain, ...(numeric ? ["-n"] : [])]);
  expect(out.exitCode).toBe(0);
  return out.stdout.split("\n").slice(2, -1);
}

function refused(args: readonly string[]): { stderr: string; exitCode: number } {
  const rules = new RuleSet();
  const out = runIptables(rules, ["-A", "INPUT", ...args]);
  expect(saved(rules)).toEqual([]);
  return { stderr: out.stderr, exitCode: out.exitCode };
}

const N = "           0    --  0.0.0.0/0            0.0.0.0/0            ";
const L = "           all  --  anywhere             anywhere             ";

describe("conntrack rules as iptables saves and lists them", () => {
  // [options after "-m conntrack", iptables-save options, -L -n text, -L text]
  const cases: [string[], string, string, string][] = [
    // Whatever order they are typed in, iptables prints the options in its own order.
    [
      [
        "--ctdir", "REPLY", "--ctexpire", "5:10", "--ctstatus", "ASSURED,EXPECTED", "--ctrepldstport", "4", "--ctreplsrcport", "3",
        "--ctorigdstport", "2:8", "--ctorigsrcport", "1", "--ctrepldst", "4.4.4.4", "--ctreplsrc", "3.3.3.0/24",
        "--ctorigdst", "2.2.2.2/255.0.255.0", "--ctorigsrc", "1.1.1.1", "--ctproto", "tcp",
        "--ctstate", "DNAT,SNAT,UNTRACKED,ESTABLISHED,RELATED,NEW,INVALID",
      ],
      "--ctstate INVALID,NEW,RELATED,ESTABLISHED,UNTRACKED,SNAT,DNAT --ctproto 6 --ctorigsrc 1.1.1.1 --ctorigdst 2.2.2.2 --ctreplsrc 3.3.3.0/24 --ctrepldst 4.4.4.4 --ctorigsrcport 1 --ctorigdstport 2:8 --ctreplsrcport 3 --ctrepldstport 4 --ctstatus EXPECTED,ASSURED --ctexpire 5:10 --ctdir REPLY",
      "ctstate INVALID,NEW,RELATED,ESTABLISHED,UNTRACKED,SNAT,DNAT ctproto 6 ctorigsrc 1.1.1.1 ctorigdst 2.2.2.2 ctreplsrc 3.3.3.0/24 ctrepldst 4.4.4.4 ctorigsrcport 1 ctorigdstport 2:8 ctreplsrcport 3 ctrepldstport 4 ctstatus EXPECTED,ASSURED ctexpire 5:10 ctdir REPLY",
      "ctstate INVALID,NEW,RELATED,ESTABLISHED,UNTRACKED,SNAT,DNAT ctproto 6 ctorigsrc 1.1.1.1 ctorigdst 2.2.2.2 ctreplsrc 3.3.3.0/24 ctrepldst 4.4.4.4 ctorigsrcport 1 ctorigdstport 2:8 ctreplsrcport 3 ctrepldstport 4 ctstatus EXPECTED,ASSURED ctexpire 5:10 ctdir REPLY",
    ],
    [
      [
        "!", "--ctexpire", "5:10", "!", "--ctstatus", "ASSURED,EXPECTED", "!", "--ctrepldstport", "4", "!", "--ctreplsrcport", "3",
        "!", "--ctorigdstport", "2:8", "!", "--ctorigsrcport", "1", "!", "--ctrepldst", "4.4.4.4", "!", "--ctreplsrc", "3.3.3.0/24",
        "!", "--ctorigdst", "2.2.2.2/255.0.255.0", "!", "--ctorigsrc", "1.1.1.1", "!", "--ctproto", "tcp",
        "!", "--ctstate", "DNAT,SNAT,UNTRACKED,ESTABLISHED,RELATED,NEW,INVALID", "--ctdir", "ORIGINAL",
      ],
      "! --ctstate INVALID,NEW,RELATED,ESTABLISHED,UNTRACKED,SNAT,DNAT ! --ctproto 6 ! --ctorigsrc 1.1.1.1 ! --ctorigdst 2.2.2.2 ! --ctreplsrc 3.3.3.0/24 ! --ctrepldst 4.4.4.4 ! --ctorigsrcport 1 ! --ctorigdstport 2:8 ! --ctreplsrcport 3 ! --ctrepldstport 4 ! --ctstatus EXPECTED,ASSURED ! --ctexpire 5:10 --ctdir ORIGINAL",
      "! ctstate INVALID,NEW,RELATED,ESTABLISHED,UNTRACKED,SNAT,DNAT ! ctproto 6 ! ctorigsrc 1.1.1.1 ! ctorigdst 2.2.2.2 ! ctreplsrc 3.3.3.0/24 ! ctrepldst 4.4.4.4 ! ctorigsrcport 1 ! ctorigdstport 2:8 ! ctreplsrcport 3 ! ctrepldstport 4 ! ctstatus EXPECTED,ASSURED ! ctexpire 5:10 ctdir ORIGINAL",
      "! ctstate INVALID,NEW,RELATED,ESTABLISHED,UNTRACKED,SNAT,DNAT ! ctproto 6 ! ctorigsrc 1.1.1.1 ! ctorigdst 2.2.2.2 ! ctreplsrc 3.3.3.0/24 ! ctrepldst 4.4.4.4 ! ctorigsrcport 1 ! ctorigdstport 2:8 ! ctreplsrcport 3 ! ctrepldstport 4 ! ctstatus EXPECTED,ASSURED ! ctexpire 5:10 ctdir ORIGINAL",
    ],
    // States and statuses may be abbreviated, in any case.
    [["--ctstate", "n,e,r,i,u,s,d"], "--ctstate INVALID,NEW,RELATED,ESTABLISHED,UNTRACKED,SNAT,DNAT", "ctstate INVALID,NEW,RELATED,ESTABLISHED,UNTRACKED,SNAT,DNAT", "ctstate INVALID,NEW,RELATED,ESTABLISHED,UNTRACKED,SNAT,DNAT"],
    [["--ctstatus", "n,e,s,a,c"], "--ctstatus EXPECTED,SEEN_REPLY,ASSURED,CONFIRMED", "ctstatus EXPECTED,SEEN_REPLY,ASSURED,CONFIRMED", "ctstatus EXPECTED,SEEN_REPLY,ASSURED,CONFIRMED"],
    [["--ctstatus", "NONE,ASSURED"], "--ctstatus ASSURED", "ctstatus ASSURED", "ctstatus ASSURED"],
    [["--ctstatus", "NONE"], "--ctstatus NONE", "ctstatus NONE", "ctstatus NONE"],
    [["!", "--ctstatus", "NONE"], "! --ctstatus NONE", "! ctstatus NONE", "! ctstatus NONE"],
    // Protocols by name or any C number, printed as numbers.
    [["--ctproto", "TCP"], "--ctproto 6", "ctproto 6", "ctproto 6"],
    [["--ctproto", "icmp"], "--ctproto 1", "ctproto 1", "ctproto 1"],
    [["--ctproto", "0x11", "--ctdir", "Original"], "--ctproto 17 --ctdir ORIGINAL", "ctproto 17 ctdir ORIGINAL", "ctproto 17 ctdir ORIGINAL"],
    [["--ctproto", "017"], "--ctproto 15", "ctproto 15", "ctproto 15"],
    [["--ctproto", "255"], "--ctproto 255", "ctproto 255", "ctproto 255"],
    [["--ctdir", "reply"], "--ctdir REPLY", "ctdir REPLY", "ctdir REPLY"],
    // Lifetimes: C numbers, open ends, a range of one printed as one value.
    [["--ctexpire", "3:3"], "--ctexpire 3", "ctexpire 3", "ctexpire 3"],
    [["--ctexpire", "5:"], "--ctexpire 5:4294967295", "ctexpire 5:4294967295", "ctexpire 5:4294967295"],
    [["--ctexpire", ":5"], "--ctexpire 0:5", "ctexpire 0:5", "ctexpire 0:5"],
    [["--ctexpire", ":"], "--ctexpire 0:4294967295", "ctexpire 0:4294967295", "ctexpire 0:4294967295"],
    [["--ctexpire", "0x10"], "--ctexpire 16", "ctexpire 16", "ctexpire 16"],
    [["--ctexpire", "010"], "--ctexpire 8", "ctexpire 8", "ctexpire 8"],
    [["--ctexpire", " +5"], "--ctexpire 5", "ctexpire 5", "ctexpire 5"],
    [["--ctexpire", ""], "--ctexpire 0", "ctexpire 0", "ctexpire 0"],
    // Addresses are kept unmasked; masks with holes count as /32; -L names a few addresses.
    [
      ["--ctorigsrc", "127.0.0.0/8", "--ctorigdst", "169.254.0.0/16", "--ctreplsrc", "127.0.1.1", "--ctrepldst", "127.0.0.1"],
      "--ctorigsrc 127.0.0.0/8 --ctorigdst 169.254.0.0/16 --ctreplsrc 127.0.1.1 --ctrepldst 127.0.0.1",
      "ctorigsrc 127.0.0.0/8 ctorigdst 169.254.0.0/16 ctreplsrc 127.0.1.1 ctrepldst 127.0.0.1",
      "ctorigsrc loopback/8 ctorigdst link-local/16 ctreplsrc 127.0.1.1 ctrepldst localhost",
    ],
    [
      ["--ctorigsrc", "0.0.0.0/8", "!", "--ctrepldst", "0.0.0.0"],
      "--ctorigsrc 0.0.0.0/8 ! --ctrepldst 0.0.0.0",
      "ctorigsrc 0.0.0.0/8 ! ctrepldst 0.0.0.0",
      "ctorigsrc anywhere ! ctrepldst anywhere",
    ],
    [
      ["--ctorigsrc", "10.20.30.40/0x18", "--ctorigdst", "10.20.30.40/024", "--ctreplsrc", "10.20.30.40/255.0.0", "--ctrepldst", "10.20.30.40/0.0.0.255"],
      "--ctorigsrc 10.20.30.40/24 --ctorigdst 10.20.30.40/20 --ctreplsrc 10.20.30.40/8 --ctrepldst 10.20.30.40",
      "ctorigsrc 10.20.30.40/24 ctorigdst 10.20.30.40/20 ctreplsrc 10.20.30.40/8 ctrepldst 10.20.30.40",
      "ctorigsrc 10.20.30.40/24 ctorigdst 10.20.30.40/20 ctreplsrc 10.20.30.40/8 ctrepldst 10.20.30.40",
    ],
    [
      ["--ctorigsrc", "0x0a.010.1", "--ctorigdst", "167772161", "--ctreplsrc", "10.1", "--ctrepldst", "10"],
      "--ctorigsrc 10.8.0.1 --ctorigdst 10.0.0.1 --ctreplsrc 10.0.0.1 --ctrepldst 0.0.0.10",
      "ctorigsrc 10.8.0.1 ctorigdst 10.0.0.1 ctreplsrc 10.0.0.1 ctrepldst 0.0.0.10",
      "ctorigsrc 10.8.0.1 ctorigdst 10.0.0.1 ctreplsrc 10.0.0.1 ctrepldst 0.0.0.10",
    ],
    [["--ctorigsrc", "2.2.2.2/33"], "--ctorigsrc 2.2.2.2", "ctorigsrc 2.2.2.2", "ctorigsrc 2.2.2.2"],
    [["--ctorigsrc", "2.2.2.2/0"], "--ctorigsrc 2.2.2.2/0", "ctorigsrc 2.2.2.2/0", "ctorigsrc 2.2.2.2/0"],
    [["--ctorigsrc", "1.2.3.4/ 24"], "--ctorigsrc 1.2.3.4/24", "ctorigsrc 1.2.3.4/24", "ctorigsrc 1.2.3.4/24"],
    [["--ctorigsrc", "localhost"], "--ctorigsrc 127.0.0.1", "ctorigsrc 127.0.0.1", "ctorigsrc localhost"],
    // Ports: names, open ends, numbers as getaddrinfo reads them (truncated to 16 bits).
    [
      ["--ctorigsrcport", "ssh:http", "--ctorigdstport", ":", "--ctreplsrcport", "1024:", "--ctrepldstport", ":0"],
      "--ctorigsrcport 22:80 --ctorigdstport 0:65535 --ctreplsrcport 1024:65535 --ctrepldstport 0",
      "ctorigsrcport 22:80 ctorigdstport 0:65535 ctreplsrcport 1024:65535 ctrepldstport 0",
      "ctorigsrcport 22:80 ctorigdstport 0:65535 ctreplsrcport 1024:65535 ctrepldstport 0",
    ],
    [
      ["--ctorigsrcport", "65536", "--ctorigdstport", " +5", "--ctreplsrcport", "-4294967295", "--ctrepldstport", ""],
      "--ctorigsrcport 0 --ctorigdstport 5 --ctreplsrcport 1 --ctrepldstport 0",
      "ctorigsrcport 0 ctorigdstport 5 ctreplsrcport 1 ctrepldstport 0",
      "ctorigsrcport 0 ctorigdstport 5 ctreplsrcport 1 ctrepldstport 0",
    ],
    [["--ctorigdstport", "www"], "--ctorigdstport 80", "ctorigdstport 80", "ctorigdstport 80"],
    [["--ctorigdstport", "domain"], "--ctorigdstport 53", "ctorigdstport 53", "ctorigdstport 53"],
    [["--ctorigdstport", "010"], "--ctorigdstport 10", "ctorigdstport 10", "ctorigdstport 10"],
    [["--ctorigdstport", "70000"], "--ctorigdstport 4464", "ctorigdstport 4464", "ctorigdstport 4464"],
    [["--ctorigdstport", "4294967297"], "--ctorigdstport 1", "ctorigdstport 1", "ctorigdstport 1"],
  ];
  for (const [args, save, numericText, text] of cases) {
    it(args.join(" "), () => {
      const rules = appended(["-m", "conntrack", ...args]);
      expect(saved(rules)).toEqual([`-A INPUT -m conntrack ${save}`]);
      expect(listed(rules, "INPUT", true)).toEqual([N + numericText]);
      expect(listed(rules, "INPUT", false)).toEqual([L + text]);
    });
  }

  it("prints Docker's RELATED,ESTABLISHED rule as iptables does", () => {
    const rules = appended(["-o", "br-dummy", "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"], "FORWARD");
    expect(saved(rules)).toEqual(["-A FORWARD -o br-dummy -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"]);
    expect(listed(rules, "FORWARD", true)).toEqual(["ACCEPT     0    --  0.0.0.0/0            0.0.0.0/0            ctstate RELATED,ESTABLISHED"]);
    expect(listed(rules, "FORWARD", false)).toEqual(["ACCEPT     all  --  anywhere             anywhere             ctstate RELATED,ESTABLISHED"]);
  });

  it("keeps states, statuses, flags and ranges as the kernel's numbers", () => {
    const rules = appended([
      "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED,DNAT", "!", "--ctproto", "udp", "--ctorigdst", "10.1.2.3/16",
      "--ctorigsrcport", "1000:2000", "--ctstatus", "EXPECTED,ASSURED", "--ctexpire", "7:9", "--ctdir", "REPLY",
    ]);
    const data = rules.tables.get("filter")!.chains.get("INPUT")!.rules[0]!.matches[0]!.data as ConntrackMatch;
    expect(data.stateMask).toBe(CT_STATE_RELATED | CT_STATE_ESTABLISHED | CT_STATE_DNAT);
    expect(data.stateMask).toBe(0b1000_0110);
    expect(data.statusMask).toBe(IPS_EXPECTED | IPS_ASSURED);
    expect(data.statusMask).toBe(0b101);
    expect(data.matchFlags).toBe(
      XT_CONNTRACK_STATE | XT_CONNTRACK_PROTO | XT_CONNTRACK_ORIGDST | XT_CONNTRACK_ORIGSRC_PORT | XT_CONNTRACK_STATUS | XT_CONNTRACK_EXPIRES | XT_CONNTRACK_DIRECTION,
    );
    expect(data.invertFlags).toBe(XT_CONNTRACK_PROTO | XT_CONNTRACK_DIRECTION);
    expect(data.l4proto).toBe(17);
    expect(data.origDst).toEqual({ addr: 0x0a010203, mask: 0xffff0000 });
    expect(data.origSrcPort).toEqual({ low: 1000, high: 2000 });
    expect([data.expiresMin, data.expiresMax]).toEqual([7, 9]);
  });
});

describe("conntrack refusals as iptables words them", () => {
  const cases: [string[], string][] = [
    [[], "conntrack: At least one option is required"],
    [["--ctstate", "wrong"], 'Bad ctstate "wrong"'],
    [["--ctstate", "NEW,X,Y"], 'Bad ctstate "X,Y"'],
    [["--ctstate", "NEW,"], 'Bad ctstate ""'],
    [["--ctstate", ",NEW"], 'Bad ctstate ",NEW"'],
    [["--ctstate", "NEW,,RELATED"], 'Bad ctstate ",RELATED"'],
    [["--ctstate", ""], 'Bad ctstate ""'],
    [["--ctstate", "NEW", "--ctstate", "NEW"], 'conntrack: option "--ctstate" can only be used once.\n'],
    [["--ctstate"], 'option "--ctstate" requires an argument'],
    [["--ctstatus", "X"], 'Bad ctstatus "X"'],
    [["--ctstatus", "A,X"], 'Bad ctstatus "X"'],
    [["--ctstatus", ",X"], 'Bad ctstatus ",X"'],
    [["--ctstatus", "ASSURED,"], 'Bad ctstatus ""'],
    [["--ctstatus", "NONE", "--ctstatus", "NONE"], 'conntrack: option "--ctstatus" can only be used once.\n'],
    [["--ctdir", "X"], 'conntrack: Bad value for "--ctdir" option: "X"'],
    [["--ctdir", "orig"], 'conntrack: Bad value for "--ctdir" option: "orig"'],
    [["--ctdir", ""], 'conntrack: Bad value for "--ctdir" option: ""'],
    [["!", "--ctdir", "REPLY"], 'conntrack: option "--ctdir" cannot be inverted.\n'],
    [["--ctdir", "REPLY", "--ctdir", "REPLY"], 'conntrack: option "--ctdir" can only be used once.\n'],
    [["--ctproto", "foo"], 'unknown protocol "foo" specified'],
    [["--ctproto", "256"], 'unknown protocol "256" specified'],
    [["--ctproto", "6", "--ctproto", "6"], 'conntrack: option "--ctproto" can only be used once.\n'],
    [["--ctexpire", "4294967296"], 'conntrack: bad value for option "--ctexpire" near "4294967296", or out of range (0-4294967295).\n'],
    [["--ctexpire", "42949672956"], 'conntrack: bad value for option "--ctexpire" near "42949672956", or out of range (0-4294967295).\n'],
    [["--ctexpire", "-1"], 'conntrack: bad value for option "--ctexpire" near "-1", or out of range (0-4294967295).\n'],
    [["--ctexpire", "abc"], 'conntrack: bad value for option "--ctexpire" near "abc", or out of range (0-4294967295).\n'],
    [["--ctexpire", "5:abc"], 'conntrack: bad value for option "--ctexpire" near "abc", or out of range (0-4294967295).\n'],
    [["--ctexpire", "1:2:3"], 'conntrack: Too many components for option "--ctexpire" (max: 2)\n'],
    [["--ctexpire", "3-5"], 'conntrack: Argument to "--ctexpire" has unexpected characters near "-5".\n'],
    [["--ctexpire", "1,2"], 'conntrack: Argument to "--ctexpire" has unexpected characters near ",2".\n'],
    [["--ctexpire", "4:3x"], 'conntrack: Argument to "--ctexpire" has unexpected characters near "x".\n'],
    [["--ctexpire", "1", "--ctexpire", "1"], 'conntrack: option "--ctexpire" can only be used once.\n'],
    [["--ctorigsrc", "1.2.3.4/abc"], 'conntrack: bad value for option "--ctorigsrc", neither a valid network mask nor valid CIDR (0-32).\n'],
    [["--ctorigsrc", "1.2.3.4/"], 'conntrack: bad value for option "--ctorigsrc", neither a valid network mask nor valid CIDR (0-32).\n'],
    [["--ctrepldst", "10.20.30.40/-1"], 'conntrack: bad value for option "--ctrepldst", neither a valid network mask nor valid CIDR (0-32).\n'],
    [["--ctorigsrc", "1.2.3.4/24 "], 'conntrack: bad value for option "--ctorigsrc", neither a valid network mask nor valid CIDR (0-32).\n'],
    [["--ctorigsrc", "1.2.3.4.5"], "getaddrinfo: Name or service not known\n"],
    [["--ctorigsrc", "256.1.1.1"], "getaddrinfo: Name or service not known\n"],
    [["--ctorigsrc", ""], "getaddrinfo: Name or service not known\n"],
    [["--ctorigsrc", "1.2.3.4 "], "getaddrinfo: Name or service not known\n"],
    [["--ctorigsrc", "1.1.1.1", "--ctorigsrc", "2.2.2.2"], 'conntrack: option "--ctorigsrc" can only be used once.\n'],
    [["--ctorigdstport", "foo"], 'Port "foo" does not resolve to anything.\n'],
    [["--ctorigdstport", "1:foo"], 'Port "foo" does not resolve to anything.\n'],
    [["--ctorigdstport", "-1"], 'Port "-1" does not resolve to anything.\n'],
    [["--ctorigdstport", "-5"], 'Port "-5" does not resolve to anything.\n'],
    [["--ctorigdstport", "0x10"], 'Port "0x10" does not resolve to anything.\n'],
    [["--ctorigdstport", "5a"], 'Port "5a" does not resolve to anything.\n'],
    [["--ctorigdstport", "1,2"], 'Port "1,2" does not resolve to anything.\n'],
    [["--ctorigdstport", "2147483648"], 'Port "2147483648" does not resolve to anything.\n'],
    [["--ctorigdstport", "18446744073709551617"], 'Port "18446744073709551617" does not resolve to anything.\n'],
    [["--ctorigdstport", "1:2:3"], 'conntrack: Too many components for option "--ctorigdstport" (max: 2)\n'],
    [["--ctorigsrcport", "1", "--ctorigsrcport", "2"], 'conntrack: option "--ctorigsrcport" can only be used once.\n'],
  ];
  for (const [args, message] of cases) {
    it(args.join(" ") || "-m conntrack alone", () => {
      expect(refused(["-m", "conntrack", ...args])).toEqual({ stderr: `${TAG}: ${message}\n${HINT}`, exitCode: 2 });
    });
  }

  // iptables 1.8.9 stored these (and never matched with them); the iptables releases whose test
  // files uptables replays refuse them, and so does uptables.
  for (const args of [
    ["--ctexpire", "4:3"],
    ["--ctorigsrcport", "4:3"],
    ["--ctreplsrcport", "4:3"],
    ["--ctorigdstport", "4:3"],
    ["--ctrepldstport", "4:3"],
    ["--ctproto", "0"],
    ["!", "--ctproto", "0"],
    ["--ctproto", "all"],
  ]) {
    it(`refuses ${args.join(" ")} as later iptables releases do`, () => {
      expect(refused(["-m", "conntrack", ...args]).exitCode).toBe(2);
    });
  }
});
