// What both mode compares, as pure functions: packets per direction, a probe's
// conntrack entries, counter increments, and when a difference counts.
import { describe, expect, it } from "vitest";
import { compareCounterSteps, compareProbes, counterDelta, normaliseConntrack, packetsByDirection } from "../../src/lab/compare.ts";
import type { ModeResult, ProbeResult } from "../../src/lab/run.ts";

describe("packets of a probe", () => {
  it("are compared per direction, without the order between directions or repeats", () => {
    const kernel = ["tcp A:1 > B:2 [S] ttl 64", "tcp B:2 > A:1 [S.] ttl 64", "tcp A:1 > B:2 [.] ttl 64", "tcp B:2 > A:1 [F.] ttl 64", "tcp A:1 > B:2 [F.] ttl 64"];
    const busy = ["tcp A:1 > B:2 [S] ttl 64", "tcp B:2 > A:1 [S.] ttl 64", "tcp B:2 > A:1 [F.] ttl 64", "tcp B:2 > A:1 [F.] ttl 64", "tcp A:1 > B:2 [.] ttl 64", "tcp A:1 > B:2 [F.] ttl 64", "tcp A:1 > B:2 [.] ttl 64"];
    expect(packetsByDirection({ i: busy })).toEqual(packetsByDirection({ i: kernel }));
    // A different TTL, flag or address is a difference.
    expect(packetsByDirection({ i: kernel.map((p) => p.replace("[F.] ttl 64", "[F.] ttl 63")) })).not.toEqual(packetsByDirection({ i: kernel }));
    expect(packetsByDirection({ i: kernel.slice(0, 4) })).not.toEqual(packetsByDirection({ i: kernel }));
  });
});

describe("conntrack entries of a probe", () => {
  const listing = `tcp      6 117 TIME_WAIT src=10.0.0.1 dst=10.0.0.2 sport=41000 dport=80 src=10.0.0.2 dst=10.0.0.1 sport=80 dport=41000 [ASSURED] mark=0 use=1
udp      17 29 src=10.0.0.1 dst=10.0.0.2 sport=41001 dport=53 [UNREPLIED] src=10.0.0.2 dst=10.0.0.1 sport=53 dport=41001 mark=0 use=1
icmp     1 29 src=10.0.0.1 dst=10.0.0.2 type=8 code=0 id=41002 src=10.0.0.2 dst=10.0.0.1 type=0 code=0 id=41002 mark=0 use=1
conntrack v1.4.7 (conntrack-tools): 3 flow entries have been shown.
`;
  it("are those with its port or ICMP id, without timeout, use= and id=", () => {
    expect(normaliseConntrack(listing, 41000)).toEqual(["tcp 6 TIME_WAIT src=10.0.0.1 dst=10.0.0.2 sport=41000 dport=80 src=10.0.0.2 dst=10.0.0.1 sport=80 dport=41000 [ASSURED] mark=0"]);
    expect(normaliseConntrack(listing, 41002)).toEqual(["icmp 1 src=10.0.0.1 dst=10.0.0.2 type=8 code=0 src=10.0.0.2 dst=10.0.0.1 type=0 code=0 mark=0"]);
    expect(normaliseConntrack(listing, 4100)).toEqual([]);
  });
});

describe("counters", () => {
  const before = ["*filter", ":FORWARD DROP [0:0]", "[1:60] -A FORWARD -j X", "[0:0] -A FORWARD -j X", "COMMIT", "*nat", ":PREROUTING ACCEPT [3:180]", "COMMIT"];
  const after = ["*filter", ":FORWARD DROP [2:120]", "[3:160] -A FORWARD -j X", "[0:0] -A FORWARD -j X", "COMMIT", "*nat", ":PREROUTING ACCEPT [3:180]", "COMMIT"];

  it("a probe's are what it added, per rule (a repeated rule keeps its own) and per policy", () => {
    expect(counterDelta(before, after)).toEqual(["[2:120] *filter :FORWARD DROP", "[2:100] *filter -A FORWARD -j X"]);
    expect(counterDelta(after, after)).toEqual([]);
  });

  function probe(counts: string[], packets: number): ProbeResult {
    return {
      name: "p", kind: "tcp", from: "a", to: "b:1", expect: "ok", expectPeer: null, outcome: "ok", peer: null, met: true, detail: "", durationMs: 1,
      packets: { "a/eth0": Array.from({ length: packets }, () => "tcp A:1 > B:2 [.] ttl 64") }, conntrack: [], counters: [], counterDelta: counts, window: [0, 1],
    };
  }
  const mode = (m: "kernel" | "userspace", p: ProbeResult): ModeResult => ({ mode: m, probes: [p], steps: [], problems: [] });
  const counters = (k: ProbeResult, u: ProbeResult) => compareProbes(mode("kernel", k), mode("userspace", u))[0]!.items.find((i) => i.item === "counters")!;

  it("that differ with the same packets on the wire are different", () => {
    const item = counters(probe(["[2:120] *filter -A FORWARD -j X"], 4), probe(["[3:180] *filter -A FORWARD -j X"], 4));
    expect(item.same).toBe(false);
  });

  it("on the same rules, with more packets on the wire in one mode, are the same with a note", () => {
    const item = counters(probe(["[2:120] *filter -A FORWARD -j X"], 4), probe(["[3:180] *filter -A FORWARD -j X"], 5));
    expect(item.same).toBe(true);
    expect(item.note).toContain("4 captured in kernel mode, 5 in userspace mode");
  });

  it("of a policy that one side counts and the other does not are different", () => {
    // iptables-nft gives a built-in chain made for a rule no policy counter; uptables models that
    // (policyCounted), so a policy counting on one side only is a real difference.
    const kernel = probe(["[1:60] *filter -A FORWARD -j X"], 4);
    const userspace = probe(["[1:60] *nat :POSTROUTING ACCEPT", "[1:60] *filter -A FORWARD -j X"], 4);
    expect(counters(kernel, userspace).same).toBe(false);
  });

  it("on other rules are different, whatever the wire says", () => {
    const item = counters(probe(["[2:120] *filter -A FORWARD -j X"], 4), probe(["[2:120] *filter -A FORWARD -j Y"], 5));
    expect(item.same).toBe(false);
  });

  it("of a counters step: the same rules counting, explained by the captures, are the same", () => {
    const listing = (a: number, b: number): string => `Chain FORWARD (policy DROP ${b} packets, ${b * 60} bytes)\n    pkts      bytes target\n      ${a}     ${a * 60} ACCEPT\n       0        0 DROP`;
    const step = (m: "kernel" | "userspace", output: string, packetsBefore: number): ModeResult =>
      ({ mode: m, probes: [], problems: [], steps: [{ step: "counters", in: "host", command: "-L FORWARD", exitCode: 0, output, packetsBefore }] });
    expect(compareCounterSteps(step("kernel", listing(5, 2), 10), step("userspace", listing(6, 2), 11))[0]!.same).toBe(true);
    expect(compareCounterSteps(step("kernel", listing(5, 2), 10), step("userspace", listing(6, 2), 10))[0]!.same).toBe(false);
    expect(compareCounterSteps(step("kernel", listing(5, 0), 10), step("userspace", listing(5, 2), 11))[0]!.same).toBe(false);
  });
});
