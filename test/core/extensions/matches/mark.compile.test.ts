// -m mark in the engine: (mark & mask) == value as xt_mark tests it, with `!`. Engine runs show a
// packet's mark 0 and one a MARK target set; more marks are tried on the compiled test itself,
// with a packet context whose mark is set by hand.
import { describe, expect, it } from "vitest";
import { buildUdp } from "../../../../src/core/packet/builder.ts";
import { runIptables } from "../../../../src/core/iptables/run.ts";
import { PacketContext } from "../../../../src/core/engine/packet-context.ts";
import type { MatchFunction } from "../../../../src/core/extensions/extension.ts";
import type { RuleSet } from "../../../../src/core/rules/model.ts";
import { engineFor, rulesFromCommands } from "../../../support/engine.ts";

const udp = (): Uint8Array => buildUdp({ src: "192.168.0.5", dst: "172.17.0.2", sport: 1000, dport: 2000 });

function packetCounts(rules: RuleSet, chain = "FORWARD"): number[] {
  const out = runIptables(rules, ["-L", chain, "-v", "-n", "-x"]);
  expect(out.exitCode).toBe(0);
  return out.stdout.split("\n").slice(2).filter((l) => l.trim() !== "").map((l) => Number(l.trim().split(/\s+/)[0]));
}

/** The compiled -m mark test of `-A FORWARD -m mark ARGS`. */
function compiled(args: string): MatchFunction {
  const rules = rulesFromCommands([`-A FORWARD -m mark ${args}`]);
  const use = rules.tables.get("filter")!.chains.get("FORWARD")!.rules[0]!.matches[0]!;
  return use.ext.compile!(use.data);
}

function withMark(mark: number): PacketContext {
  const ctx = new PacketContext();
  const packet = udp();
  expect(ctx.load(packet, packet.length)).toBeNull();
  ctx.mark = mark;
  return ctx;
}

describe("mark: the packet mark in the engine", () => {
  it("an unmarked packet has mark 0: --mark 0 matches, --mark 1 does not, ! --mark 1 does", () => {
    const rules = rulesFromCommands([
      "-A FORWARD -m mark --mark 1",
      "-A FORWARD -m mark ! --mark 0",
      "-A FORWARD -m mark --mark 0",
      "-A FORWARD -m mark ! --mark 1",
      "-A FORWARD -m mark --mark 0x0/0x0",
      "-A FORWARD -m mark --mark 1/0",
      "-A FORWARD -m mark ! --mark 1/0",
      "-A FORWARD -m mark --mark 0 -j DROP",
    ]);
    const engine = engineFor(rules);
    expect(engine.receive(udp(), udp().length, "eth0", 0).accepted).toBe(false);
    expect(packetCounts(rules)).toEqual([0, 0, 1, 1, 1, 0, 1, 1]);
  });

  it("sees the mark a MARK target set earlier on the packet's way", () => {
    const rules = rulesFromCommands([
      "-t mangle -A PREROUTING -p udp --dport 2000 -j MARK --set-mark 0x15",
      "-A FORWARD -m mark --mark 0x15",
      "-A FORWARD -m mark --mark 0x5/0xf",
      "-A FORWARD -m mark --mark 0x5",
      "-A FORWARD -m mark ! --mark 0x15",
      "-A FORWARD -m mark --mark 0x10/0xf0 -j DROP",
    ]);
    const engine = engineFor(rules);
    const marked = udp();
    const unmarked = buildUdp({ src: "192.168.0.5", dst: "172.17.0.2", sport: 1000, dport: 2001 });
    expect(engine.receive(marked, marked.length, "eth0", 0).accepted).toBe(false);
    expect(engine.receive(unmarked, unmarked.length, "eth0", 0).accepted).toBe(true);
    expect(packetCounts(rules)).toEqual([1, 1, 0, 1, 1]);
  });

  it("compares the masked mark with the value", () => {
    const test = compiled("--mark 0x10/0xf0");
    expect([0x10, 0x1f, 0xff10, 0x20, 0x0, 0x11f].map((m) => test(withMark(m)))).toEqual([true, true, true, false, false, true]);
  });

  it("without a mask compares all 32 bits, up to 0xffffffff", () => {
    const test = compiled("--mark 0xffffffff");
    expect([0xffffffff, 0xfffffffe, 0x7fffffff].map((m) => test(withMark(m)))).toEqual([true, false, false]);
    const high = compiled("--mark 0x80000000/0x80000000");
    expect([0x80000000, 0xffffffff, 0x7fffffff].map((m) => high(withMark(m)))).toEqual([true, true, false]);
  });

  it("! inverts the comparison", () => {
    const test = compiled("! --mark 5/0xf");
    expect([5, 0x15, 6, 0].map((m) => test(withMark(m)))).toEqual([false, false, true, true]);
  });

  it("a value with bits outside its mask never matches; inverted it always does", () => {
    const never = compiled("--mark 0x101/0xff");
    const always = compiled("! --mark 0x101/0xff");
    for (const m of [0, 1, 0x101, 0xffffffff]) {
      expect(never(withMark(m))).toBe(false);
      expect(always(withMark(m))).toBe(true);
    }
  });
});
