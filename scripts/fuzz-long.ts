// The three fuzzers of test/fuzz for longer than CI runs them:
//
//   npx tsx scripts/fuzz-long.ts [--minutes N] [--seed S] [--only command,restore,engine] [--rotate]
//
// The time (default 10 minutes) is shared equally by the fuzzers chosen; each prints its progress
// and rate every few seconds, and every failure at once with its seed and a minimal reproduction.
// --rotate also swaps the corpus rule sets into the engine now and then (Docker 27's otherwise).
// Exits 1 when anything failed.
import { runCommandFuzz } from "../test/fuzz/command-fuzzer.ts";
import { runEngineFuzz } from "../test/fuzz/engine-fuzzer.ts";
import { runRestoreFuzz } from "../test/fuzz/restore-fuzzer.ts";
import { FailureLog, formatFailure } from "../test/fuzz/rng.ts";

const FUZZERS = ["command", "restore", "engine"] as const;
type Fuzzer = (typeof FUZZERS)[number];

function parseArgs(argv: readonly string[]): { minutes: number; seed: number; only: Fuzzer[]; rotate: boolean } {
  let minutes = 10;
  let seed = (Date.now() ^ (process.pid << 16)) >>> 0;
  let only: Fuzzer[] = [...FUZZERS];
  let rotate = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === "--minutes") minutes = Number(value());
    else if (arg === "--seed") seed = Number(value()) >>> 0;
    else if (arg === "--only") only = value().split(",").map((f) => f.trim()) as Fuzzer[];
    else if (arg === "--rotate") rotate = true;
    else if (arg === "-h" || arg === "--help") {
      console.log("usage: npx tsx scripts/fuzz-long.ts [--minutes N] [--seed S] [--only command,restore,engine] [--rotate]");
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}`);
  }
  if (!(minutes > 0)) throw new Error("--minutes must be a positive number");
  if (!Number.isFinite(seed)) throw new Error("--seed must be a number");
  for (const f of only) if (!FUZZERS.includes(f)) throw new Error(`unknown fuzzer ${f} (command, restore, engine)`);
  return { minutes, seed, only, rotate };
}

function throttle<T>(everyMs: number, fn: (value: T) => void): (value: T) => void {
  let last = Date.now();
  return (value) => {
    const now = Date.now();
    if (now - last < everyMs) return;
    last = now;
    fn(value);
  };
}

const rate = (n: number, ms: number): string => `${Math.round(n / Math.max(ms / 1000, 0.001))}/s`;

function main(): void {
  const { minutes, seed, only, rotate } = parseArgs(process.argv.slice(2));
  const sliceMs = (minutes * 60_000) / only.length;
  console.log(`fuzz-long: seed ${seed}, ${minutes} min over ${only.join(", ")} (${(sliceMs / 1000).toFixed(0)} s each)${rotate ? ", rotating rule sets" : ""}`);
  console.log(`(replay any run with --seed ${seed}; the CI tests take FUZZ_SEED=${seed})`);
  let failed = 0;
  const logFor = (name: string): FailureLog =>
    new FailureLog(5, (f) => {
      failed++;
      console.log(`\n!!! ${name} failure\n${formatFailure(f)}\n`);
    });

  for (const fuzzer of only) {
    const deadline = Date.now() + sliceMs;
    const log = logFor(fuzzer);
    if (fuzzer === "command") {
      const { stats } = runCommandFuzz({
        seed,
        deadline,
        log,
        onProgress: throttle(5000, (s) =>
          console.log(`command: ${s.cases} cases, ${rate(s.cases, s.ms)}, ${s.changes} changes, ${s.rulesRechecked} new rules re-parsed; ${log.summary()}`),
        ),
      });
      console.log(`command: done, ${stats.cases} cases in ${(stats.ms / 1000).toFixed(1)} s (${rate(stats.cases, stats.ms)}), exit codes ${JSON.stringify(stats.exitCodes)}; ${log.summary()}`);
    } else if (fuzzer === "restore") {
      const { stats } = runRestoreFuzz({
        seed,
        deadline,
        log,
        onProgress: throttle(5000, (s) =>
          console.log(`restore: ${s.cases} files, ${rate(s.cases, s.ms)}, ${s.accepted} accepted, ${s.refused} refused; ${log.summary()}`),
        ),
      });
      console.log(`restore: done, ${stats.cases} files in ${(stats.ms / 1000).toFixed(1)} s (${rate(stats.cases, stats.ms)}), line formats ${JSON.stringify(stats.lineStyles)}; ${log.summary()}`);
    } else {
      const { stats } = runEngineFuzz({
        seed,
        deadline,
        log,
        rotateRuleSets: rotate,
        onProgress: throttle(5000, (s) =>
          console.log(`engine: ${s.packets} packets, ${rate(s.packets, s.ms)}, ${s.accepted} accepted, drops ${JSON.stringify(s.byReason)}; ${log.summary()}`),
        ),
      });
      console.log(
        `engine: done, ${stats.packets} packets in ${(stats.ms / 1000).toFixed(1)} s (${rate(stats.packets, stats.ms)}), ` +
          `ctstates ${JSON.stringify(stats.byState)}, ${stats.audits} audits; ${log.summary()}`,
      );
    }
  }
  console.log(failed === 0 ? "fuzz-long: no failures" : `fuzz-long: ${failed} distinct failures (see above)`);
  process.exit(failed === 0 ? 0 : 1);
}

main();
