// Kernel against userspace, probe by probe: the outcome, the peer the server saw, the packets on
// each interface, the conntrack table and the rule counters after the probe, each marked same or
// different. Tables and listings are normalised first so that only what both should agree on is
// compared: no conntrack timeouts, use= or id= (ICMP ids are random), counters as what each probe
// added, packets per direction without repeats.
import type { ModeResult, ProbeResult } from "./run.ts";

export type Item = "outcome" | "peer" | "packets" | "conntrack" | "counters";
export const ITEMS: readonly Item[] = ["outcome", "peer", "packets", "conntrack", "counters"];

export interface ItemComparison {
  readonly item: Item;
  readonly same: boolean;
  /** Why two values that are not identical still count as the same. */
  readonly note?: string;
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
  readonly note?: string;
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
 * direction's distinct packets in the order they first appeared. Left out, because they change
 * from run to run on the kernel too: the order between directions (which of a FIN and the other
 * side's last ACK is first on the wire is a race) and repeats (a retransmitted FIN and the ACK
 * that answers it, a second ACK when delayed ACKs fire at other moments).
 */
export function packetsByDirection(packets: Record<string, string[]>): Record<string, string[]> {
  const direction = (summary: string): string => summary.replace(/ \[.*$| type .*$| ttl .*$/, "");
  return Object.fromEntries(
    Object.entries(packets).map(([where, list]) => {
      const keys = [...new Set(list.map(direction))].sort();
      return [where, keys.flatMap((key) => [...new Set(list.filter((p) => direction(p) === key))])];
    }),
  );
}

function packetCount(packets: Record<string, string[]>): number {
  return Object.values(packets).reduce((n, list) => n + list.length, 0);
}

/** A `-save -c` line's counters and what they count ("*nat -A DOCKER ...", "*filter :FORWARD DROP"). */
function counted(lines: readonly string[]): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  let table = "";
  for (const line of lines) {
    if (line.startsWith("*")) table = line;
    const rule = /^\[(\d+):(\d+)\] (.*)$/.exec(line);
    const chain = /^(:\S+ \S+) \[(\d+):(\d+)\]$/.exec(line);
    let key: string | null = null;
    let value: [number, number] = [0, 0];
    if (rule) [key, value] = [`${table} ${rule[3]}`, [Number(rule[1]), Number(rule[2])]];
    else if (chain) [key, value] = [`${table} ${chain[1]}`, [Number(chain[2]), Number(chain[3])]];
    if (key === null) continue;
    // The same rule twice in a chain: number the repeats so each keeps its own counters.
    let unique = key;
    for (let n = 2; out.has(unique); n++) unique = `${key} #${n}`;
    out.set(unique, value);
  }
  return out;
}

/**
 * What one probe added to the counters: `[packets:bytes] *table rule` (or `:CHAIN POLICY`) for
 * every rule and policy whose counters grew between the two `-save -c` snapshots.
 */
export function counterDelta(before: readonly string[], after: readonly string[]): string[] {
  const old = counted(before);
  const out: string[] = [];
  for (const [key, [packets, bytes]] of counted(after)) {
    const [p0, b0] = old.get(key) ?? [0, 0];
    if (packets !== p0 || bytes !== b0) out.push(`[${packets - p0}:${bytes - b0}] ${key}`);
  }
  return out;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function itemOf(probe: ProbeResult, item: Item): unknown {
  return item === "packets" ? packetsByDirection(probe.packets) : item === "counters" ? probe.counterDelta : probe[item];
}

/**
 * Counters that grew on the same rules by different amounts are the same when the wire explains
 * it: the two runs put a different number of packets on the interfaces (retransmissions, extra
 * ACKs). With the same number of packets on the wire, any difference counts.
 */
function countersExplained(k: ProbeResult, u: ProbeResult): string | null {
  const rules = (p: ProbeResult): string => p.counterDelta.map((l) => l.replace(/^\[\d+:\d+\] /, "")).join("\n");
  const [kn, un] = [packetCount(k.packets), packetCount(u.packets)];
  if (rules(k) !== rules(u) || kn === un) return null;
  return `the same rules counted; the counts follow the packets on the wire (${kn} captured in kernel mode, ${un} in userspace mode)`;
}

export function compareProbes(kernel: ModeResult, userspace: ModeResult): ProbeComparison[] {
  const names = [...new Set([...kernel.probes, ...userspace.probes].map((p) => p.name))];
  return names.map((name) => {
    const k = kernel.probes.find((p) => p.name === name);
    const u = userspace.probes.find((p) => p.name === name);
    const items = ITEMS.map((item): ItemComparison => {
      const kv = k === undefined ? "(not run)" : itemOf(k, item);
      const uv = u === undefined ? "(not run)" : itemOf(u, item);
      if (same(kv, uv) || k === undefined || u === undefined) return { item, same: same(kv, uv), kernel: kv, userspace: uv };
      const note = item === "counters" ? countersExplained(k, u) : null;
      return note === null ? { item, same: false, kernel: kv, userspace: uv } : { item, same: true, note, kernel: kv, userspace: uv };
    });
    return { name, same: items.every((i) => i.same), items };
  });
}

/** The `counters:` steps, which show a chain's listing at a point of the lab. */
export function compareCounterSteps(kernel: ModeResult, userspace: ModeResult): StepComparison[] {
  const k = kernel.steps.filter((s) => s.step === "counters");
  const u = userspace.steps.filter((s) => s.step === "counters");
  // As for a probe's counters: the same rules counting (zero or not), with different amounts that
  // the captures explain, are the same.
  const pattern = (listing: string): string => listing.replace(/^(\s*)(\d+)\s+(\d+)/gm, (_, indent: string, packets: string) => `${indent}${packets === "0" ? "0" : "N"}`).replace(/policy \w+ \d+ packets, \d+ bytes/g, (m) => (/ 0 packets/.test(m) ? m : m.replace(/\d+ packets, \d+ bytes/, "N")));
  return k.map((ks, i) => {
    const us = u[i];
    if (us === undefined) return { command: ks.command, same: false, kernel: ks.output, userspace: "(not run)" };
    if (ks.output === us.output) return { command: ks.command, same: true, kernel: ks.output, userspace: us.output };
    const [kn, un] = [ks.packetsBefore ?? 0, us.packetsBefore ?? 0];
    if (pattern(ks.output) === pattern(us.output) && kn !== un) {
      const note = `the same rules counted; the counts follow the packets on the wire (${kn} captured in kernel mode by then, ${un} in userspace mode)`;
      return { command: ks.command, same: true, note, kernel: ks.output, userspace: us.output };
    }
    return { command: ks.command, same: false, kernel: ks.output, userspace: us.output };
  });
}

/** Lines only on one side, for showing two listings' differences compactly. */
export function lineDifference(kernel: readonly string[], userspace: readonly string[]): { onlyKernel: string[]; onlyUserspace: string[] } {
  const u = new Set(userspace);
  const k = new Set(kernel);
  return { onlyKernel: kernel.filter((l) => !u.has(l)), onlyUserspace: userspace.filter((l) => !k.has(l)) };
}
