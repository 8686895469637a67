// The long-chain index: it may only skip rules that cannot match, so a walk with it must decide
// exactly as the linear walk does, rule by rule.
import { describe, expect, it } from "vitest";
import { buildChainIndex, CHAIN_INDEX_MIN_RULES, nextCandidate, type AddressColumns } from "../../../src/core/engine/chain-index.ts";
import { compileTable, type CompiledTable } from "../../../src/core/engine/compile.ts";
import { PacketContext } from "../../../src/core/engine/packet-context.ts";
import { walkTable, WalkStack, type WalkStep } from "../../../src/core/engine/traverse.ts";
import { buildTcp } from "../../../src/core/packet/builder.ts";
import { rulesFromSave } from "../../support/engine.ts";

function columns(rules: readonly [mask: number, address: number, inverted?: boolean][]): AddressColumns {
  return {
    mask: Uint32Array.from(rules.map((r) => r[0] >>> 0)),
    address: Uint32Array.from(rules.map((r) => r[1] >>> 0)),
    inverted: (i) => rules[i]![2] === true,
  };
}

describe("chain index", () => {
  it("is not built for short chains or chains it cannot narrow", () => {
    const short = columns(Array.from({ length: CHAIN_INDEX_MIN_RULES - 1 }, (_, i) => [0xffffffff, i] as [number, number]));
    expect(buildChainIndex(CHAIN_INDEX_MIN_RULES - 1, short, short)).toBeNull();
    const unaddressed = columns(Array.from({ length: 40 }, () => [0, 0] as [number, number]));
    expect(buildChainIndex(40, unaddressed, unaddressed)).toBeNull();
  });

  it("yields the rules whose address can match, and the unaddressed and inverted ones, in order", () => {
    const rules: [number, number, boolean?][] = [];
    for (let i = 0; i < 30; i++) rules.push([0xffffffff, 0xc6336400 + i]); // 198.51.100.i/32
    rules.push([0, 0]); // 30: no -s
    rules.push([0xffffffff, 0xc6336405, true]); // 31: ! -s 198.51.100.5
    rules.push([0xffffff00, 0x0a000000]); // 32: -s 10.0.0.0/24
    rules.push([0xffffffff, 0xc6336405]); // 33: the same /32 as rule 5
    const src = columns(rules);
    const dst = columns(rules.map(() => [0, 0] as [number, number]));
    const index = buildChainIndex(rules.length, src, dst)!;
    expect(index).not.toBeNull();
    const walk = (address: number): number[] => {
      const out: number[] = [];
      for (let i = nextCandidate(index, 0, address, 0); i < rules.length; i = nextCandidate(index, i + 1, address, 0)) out.push(i);
      return out;
    };
    expect(walk(0xc6336405)).toEqual([5, 30, 31, 33]);
    expect(walk(0xc6336407)).toEqual([7, 30, 31]);
    expect(walk(0x0a000009)).toEqual([30, 31, 32]);
    expect(walk(0x08080808)).toEqual([30, 31]);
    expect(nextCandidate(index, rules.length, 0xc6336405, 0)).toBe(rules.length);
  });

  it("indexes on the destination when that leaves out more rules", () => {
    const dst = columns(Array.from({ length: 20 }, (_, i) => [0xffffffff, 0xac110000 + i] as [number, number]));
    const index = buildChainIndex(20, columns(Array.from({ length: 20 }, () => [0, 0] as [number, number])), dst)!;
    expect(nextCandidate(index, 0, 0x01020304, 0xac110003)).toBe(3);
    expect(nextCandidate(index, 4, 0x01020304, 0xac110003)).toBe(20);
  });
});

/** A deterministic generator, so a failure can be replayed. */
function rng(seed: number): () => number {
  return () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed >>> 8;
  };
}

function randomRuleSet(random: () => number): string {
  const addr = (): string => `198.51.${random() % 3}.${random() % 8}`;
  const lines = ["*filter", ":INPUT ACCEPT [0:0]", ":FORWARD DROP [0:0]", ":OUTPUT ACCEPT [0:0]", ":SUB - [0:0]"];
  for (let i = 0; i < 60; i++) {
    const parts = ["-A FORWARD"];
    const kind = random() % 8;
    if (kind < 4) parts.push(`-s ${addr()}/32`);
    else if (kind === 4) parts.push(`-d ${addr()}/${[24, 30, 32][random() % 3]}`);
    else if (kind === 5) parts.push(`! -s ${addr()}/32`);
    else if (kind === 6) parts.push(`-s 198.51.${random() % 3}.0/24`);
    if (random() % 3 === 0) parts.push(`-p tcp --dport ${random() % 4}`);
    const target = random() % 11;
    parts.push(target < 6 ? "" : target < 7 ? "-j ACCEPT" : target < 8 ? "-j DROP" : target < 9 ? "-j SUB" : target < 10 ? "-g SUB" : "-j RETURN");
    lines.push(parts.join(" ").trim());
  }
  for (let i = 0; i < 20; i++) lines.push(`-A SUB -s ${addr()}/32${random() % 4 === 0 ? " -j RETURN" : random() % 4 === 0 ? " -j ACCEPT" : ""}`);
  lines.push("COMMIT", "");
  return lines.join("\n");
}

function stepsOf(table: CompiledTable, ctx: PacketContext): string[] {
  const steps: string[] = [];
  const observe = (s: WalkStep): void => {
    steps.push(`${s.chain}:${s.rule?.number ?? s.kind}:${s.verdict}`);
  };
  steps.push(`verdict ${walkTable(table, ctx, new WalkStack(), observe)}`);
  return steps;
}

describe("walk with the chain index", () => {
  it("takes the same steps as the linear walk for random rule sets and packets", () => {
    const random = rng(7);
    let indexed = 0;
    for (let set = 0; set < 20; set++) {
      const table = compileTable(rulesFromSave(randomRuleSet(random)).tables.get("filter")!);
      const linear: CompiledTable = { ...table, chains: table.chains.map((c) => ({ ...c, index: null })) };
      if (table.chains.some((c) => c.index !== null)) indexed++;
      const ctx = new PacketContext();
      for (let p = 0; p < 200; p++) {
        const packet = buildTcp({ src: `198.51.${random() % 3}.${random() % 8}`, dst: `198.51.${random() % 3}.${random() % 8}`, sport: 1000, dport: random() % 4, flags: 0x10, seq: 1 });
        expect(ctx.load(packet, packet.length)).toBeNull();
        ctx.hook = "FORWARD";
        ctx.hookIndex = 2;
        ctx.inInterface = "eth0";
        ctx.outInterface = "eth1";
        expect(stepsOf(table, ctx)).toEqual(stepsOf(linear, ctx));
      }
    }
    expect(indexed).toBeGreaterThan(10);
  });
});
