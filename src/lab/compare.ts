// Kernel against userspace, probe by probe: the outcome, the peer the server saw, the packets on
// each interface, the conntrack table and the rule counters after the probe, each marked same or
// different. Tables and listings are normalised first so that only what both should agree on is
// compared: no conntrack timeouts, use= or id= (ICMP ids are random), no save comments.
import type { ModeResult, ProbeResult } from "./run.ts";

export type Item = "outcome" | "peer" | "packets" | "conntrack" | "counters";
export const ITEMS: readonly Item[] = ["outcome", "peer", "packets", "conntrack", "counters"];

export interface ItemComparison {
  readonly item: Item;
  readonly same: boolean;
  readonly kernel: unknown;
  readonly userspace: unknown;
}

export interface ProbeComparison {
  readonly name: string;
  readonly same: boolean;
  readonly items: ItemComparison[];
}

export interface StepComparison {
  readonly command: string;
  readonly same: boolean;
  readonly kernel: string;
  readonly userspace: string;
}

/**
 * The connections of one probe in `conntrack -L` (those with its source port, or ICMP id, in a
 * tuple: other probes' entries expire on their own clock), without the timeout, use= and id=,
 * sorted; the summary line dropped.
 */
export function normaliseConntrack(text: string, probePort: number): string[] {
  const ofProbe = new RegExp(`\\b(sport|dport|id)=${probePort}\\b`);
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => ofProbe.test(line))
    .map((line) =>
      line
        .replace(/^(\S+\s+\d+)\s+\d+\s+/, "$1 ")
        .replace(/\s(use|id)=\d+/g, "")
        .replace(/\s+/g, " ")
        .trim(),
    )
    .sort();
}

/** `-save -c` without its comment lines (dates, versions). */
export function normaliseSave(text: string): string[] {
  return text.split("\n").filter((line) => line.trim() !== "" && !line.startsWith("#"));
}

/**
 * Captured packets as compared: per interface, grouped by direction (addresses and ports), each
 * direction in capture order. The order between directions is left out: which of a FIN and the
 * other side's last ACK is first on the wire is a race in the kernel too.
 */
export function packetsByDirection(packets: Record<string, string[]>): Record<string, string[]> {
  const direction = (summary: string): string => summary.replace(/ \[.*$| type .*$| ttl .*$/, "");
  return Object.fromEntries(
    Object.entries(packets).map(([where, list]) => {
      const keys = [...new Set(list.map(direction))].sort();
      return [where, keys.flatMap((key) => list.filter((p) => direction(p) === key))];
    }),
  );
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function itemOf(probe: ProbeResult, item: Item): unknown {
  return item === "packets" ? packetsByDirection(probe.packets) : probe[item];
}

export function compareProbes(kernel: ModeResult, userspace: ModeResult): ProbeComparison[] {
  const names = [...new Set([...kernel.probes, ...userspace.probes].map((p) => p.name))];
  return names.map((name) => {
    const k = kernel.probes.find((p) => p.name === name);
    const u = userspace.probes.find((p) => p.name === name);
    const items = ITEMS.map((item): ItemComparison => {
      const kv = k === undefined ? "(not run)" : itemOf(k, item);
      const uv = u === undefined ? "(not run)" : itemOf(u, item);
      return { item, same: same(kv, uv), kernel: kv, userspace: uv };
    });
    return { name, same: items.every((i) => i.same), items };
  });
}

/** The `counters:` steps, which show a chain's listing at a point of the lab. */
export function compareCounterSteps(kernel: ModeResult, userspace: ModeResult): StepComparison[] {
  const k = kernel.steps.filter((s) => s.step === "counters");
  const u = userspace.steps.filter((s) => s.step === "counters");
  return k.map((ks, i) => {
    const us = u[i];
    return { command: ks.command, same: us !== undefined && ks.output === us.output, kernel: ks.output, userspace: us?.output ?? "(not run)" };
  });
}

/** Lines only on one side, for showing two listings' differences compactly. */
export function lineDifference(kernel: readonly string[], userspace: readonly string[]): { onlyKernel: string[]; onlyUserspace: string[] } {
  const u = new Set(userspace);
  const k = new Set(kernel);
  return { onlyKernel: kernel.filter((l) => !u.has(l)), onlyUserspace: userspace.filter((l) => !k.has(l)) };
}
