// The fuzzers' seeded PRNG (mulberry32) and the plumbing every fuzzer shares: the seed (fixed,
// overridable with FUZZ_SEED), per-episode seeds derived from it, and the failure record.

export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  u32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return n <= 1 ? 0 : this.u32() % n;
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.u32() < p * 4294967296;
  }

  u16(): number {
    return this.u32() & 0xffff;
  }

  u8(): number {
    return this.u32() & 0xff;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** Picks by weight: `[[weight, value], ...]`. */
  weighted<T>(choices: readonly (readonly [number, T])[]): T {
    let total = 0;
    for (const [w] of choices) total += w;
    let r = this.int(total);
    for (const [w, v] of choices) {
      if (r < w) return v;
      r -= w;
    }
    return choices[choices.length - 1]![1];
  }

  /** A small number, most often 0 or 1 (geometric-ish). */
  small(max: number): number {
    let n = 0;
    while (n < max && this.chance(0.5)) n++;
    return n;
  }
}

/** Mixes a seed and an index into a new 32-bit seed (splitmix32's finaliser). */
export function deriveSeed(seed: number, index: number): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The seed to use: FUZZ_SEED (decimal or 0x-hex) when set, else `fallback`. */
export function resolveSeed(fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const text = env.FUZZ_SEED?.trim();
  if (!text) return fallback >>> 0;
  const value = Number(text);
  if (!Number.isFinite(value)) throw new Error(`FUZZ_SEED must be a number, got ${JSON.stringify(text)}`);
  return value >>> 0;
}

/** FUZZ_SCALE multiplies every CI fuzz test's case count (default 1). */
export function resolveScale(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.FUZZ_SCALE?.trim();
  if (!text) return 1;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`FUZZ_SCALE must be a positive number, got ${JSON.stringify(text)}`);
  return value;
}

/** How to run a fuzzer again on the same seed (the same cases, in the same order). */
export function replayCommand(fuzzer: "command" | "restore" | "engine", seed: number): string {
  return `npx tsx scripts/fuzz-long.ts --only ${fuzzer} --seed ${seed}`;
}

/** One broken invariant, with what it takes to see it again. */
export interface FuzzFailure {
  readonly fuzzer: "command" | "restore" | "engine";
  /** Short name of the invariant ("throws", "exit-code", "atomic", ...). */
  readonly invariant: string;
  readonly message: string;
  readonly seed: number;
  /** Where in the run: episode/step or packet index. */
  readonly where: string;
  /** A self-contained reproduction, shrunk when the fuzzer knows how. */
  readonly reproduction: string;
}

export function formatFailure(f: FuzzFailure): string {
  return [
    `[${f.fuzzer}] invariant "${f.invariant}" broken at ${f.where} (seed ${f.seed}): ${f.message}`,
    f.reproduction
      .split("\n")
      .map((line) => `    ${line}`)
      .join("\n"),
  ].join("\n");
}

/** Error text of anything thrown, with the first lines of its stack. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const stack = (error.stack ?? "").split("\n").slice(0, 6).join("\n");
    return stack || `${error.name}: ${error.message}`;
  }
  return String(error);
}

/** Keeps the first failures of each invariant (a run can hit the same bug thousands of times). */
export class FailureLog {
  readonly failures: FuzzFailure[] = [];
  readonly counts = new Map<string, number>();

  constructor(
    private readonly perInvariant = 3,
    /** Told of every failure recorded (the long run prints them as they come). */
    private readonly onAdd?: (failure: FuzzFailure) => void,
  ) {}

  /** Records the failure; returns true when it is among the first few of its kind (worth shrinking). */
  wants(invariant: string): boolean {
    return (this.counts.get(invariant) ?? 0) < this.perInvariant;
  }

  /** Counts a failure not worth recording again. */
  count(invariant: string): void {
    this.counts.set(invariant, (this.counts.get(invariant) ?? 0) + 1);
  }

  add(failure: FuzzFailure): void {
    const n = (this.counts.get(failure.invariant) ?? 0) + 1;
    this.counts.set(failure.invariant, n);
    if (n > this.perInvariant) return;
    // The same minimal reproduction found again (from another case) is not a new failure.
    const key = `${failure.invariant}\n${failure.reproduction.replace(/^replay:.*$/m, "")}`;
    if (this.keys.has(key)) return;
    this.keys.add(key);
    this.failures.push(failure);
    this.onAdd?.(failure);
  }

  private readonly keys = new Set<string>();

  get total(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c;
    return n;
  }

  summary(): string {
    if (this.counts.size === 0) return "no failures";
    return [...this.counts].map(([k, v]) => `${k}: ${v}`).join(", ");
  }
}
