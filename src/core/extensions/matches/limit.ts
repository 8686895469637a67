// -m limit: a token bucket, matching at an average rate with bursts (iptables' libxt_limit,
// which iptables-nft turns into an nftables `limit rate N/unit burst B packets`, run by nft_limit).
import { ParameterProblem } from "../../rules/errors.ts";
import { defineMatch } from "../extension.ts";
import { asciiLower, parseIntegerOption } from "../targets/xtables-numbers.ts";

export interface LimitMatch {
  /** Average time between matches, in 1/10000 s (xt_rateinfo's avg). */
  avg: number;
  /** Bucket size in packets. */
  burst: number;
}

/** XT_LIMIT_SCALE: avg is kept in units of 1/10000 second. */
const SCALE = 10000;
const DEFAULT_BURST = 5;
const MAX_BURST = 10000;
const NSEC_PER_SEC = 1e9;
const NSEC_PER_MS = 1e6;

/** The units of a rate, longest period first, as iptables prints them. */
const UNITS: readonly (readonly [printed: string, spelled: string, seconds: number])[] = [
  ["day", "day", 24 * 60 * 60],
  ["hour", "hour", 60 * 60],
  ["min", "minute", 60],
  ["sec", "second", 1],
];

/** C's atoi: strtol in base 10 (blanks, a sign, digits, saturating at 64 bits) cut to an int. */
function atoi(text: string): number {
  const match = /^[ \t\n\v\f\r]*([+-]?[0-9]+)/.exec(text);
  if (!match) return 0;
  const limit = (1n << 63n) - 1n;
  let value = BigInt(match[1]!);
  if (value > limit) value = limit;
  if (value < -limit - 1n) value = -limit - 1n;
  return Number(BigInt.asIntN(32, value));
}

/** The unit and count iptables shows for an avg: the longest unit that keeps the count exact enough. */
function rateOf(avg: number): { count: number; unit: (typeof UNITS)[number] } {
  let i = 1;
  for (; i < UNITS.length; i++) {
    const period = UNITS[i]![2] * SCALE;
    if (avg > period || Math.floor(period / avg) < period % avg) break;
  }
  const unit = UNITS[i - 1]!;
  return { count: Math.floor((unit[2] * SCALE) / avg), unit };
}

/** "N[/second|/minute|/hour|/day]" (any prefix of the unit) as an avg. */
function parseRate(text: string): number {
  const bad = () => new ParameterProblem(`bad rate "${text}"'`);
  const slash = text.indexOf("/");
  let seconds = 1;
  if (slash >= 0) {
    const unit = asciiLower(text.slice(slash + 1));
    const found = unit === "" ? undefined : UNITS.find(([, spelled]) => spelled.startsWith(unit));
    if (!found) throw bad();
    seconds = found[2];
  }
  // atoi's int becomes the C code's uint32, so "-1/s" is a rate of 4294967295 per second.
  const count = atoi(text) >>> 0;
  if (count === 0) throw bad();
  const avg = Math.floor((SCALE * seconds) / count);
  if (avg === 0) throw new ParameterProblem(`Rate too fast "${text}"`);
  // iptables-nft stores the rate as the count and unit it would print; reading it back gives this avg.
  const { count: stored, unit } = rateOf(avg);
  return Math.floor((SCALE * unit[2]) / stored);
}

export const limitMatch = defineMatch<LimitMatch>({
  name: "limit",
  options: [
    { name: "limit", hasArg: true },
    { name: "limit-burst", hasArg: true },
  ],
  // 3/hour, burst 5: what `-m limit` alone means.
  init: () => ({ avg: (SCALE * 60 * 60) / 3, burst: DEFAULT_BURST }),
  parse(data, option, arg) {
    if (option === "limit") {
      data.avg = parseRate(arg!);
      return;
    }
    // nftables reads a burst of 0 as its default of 5, and so the rule comes back.
    data.burst = parseIntegerOption("limit", option, arg!, 0, MAX_BURST) || DEFAULT_BURST;
  },
  /**
   * The token bucket the kernel runs for this rule. iptables-nft does not hand -m limit to xt_limit:
   * it sends the native `limit rate COUNT/UNIT burst B packets` expression (the rate rateOf prints),
   * so the bucket is nft_limit's, counted in nanoseconds:
   *   cost    = floor(UNIT seconds in ns / COUNT)       what one packet takes
   *   max     = cost * burst                            the bucket, full when the rule is loaded
   *   refill  one token per elapsed nanosecond, capped at max before the packet's cost is taken
   *   a packet matches when the bucket holds at least `cost`, and then takes it; otherwise it does
   *   not match and takes nothing.
   * xt_limit (iptables-legacy) is the same bucket counted in jiffies (HZ) times CREDITS_PER_JIFFY,
   * with cost = avg * HZ * CREDITS_PER_JIFFY / 10000, so it refills in steps of one jiffy; the
   * nanosecond bucket has no such steps.
   *
   * Rounding here: the engine's clock is in milliseconds; elapsed time becomes whole nanoseconds
   * (floor of ms * 1e6), so a fractional clock loses under a nanosecond per evaluation and an
   * integral one loses nothing. The bucket is kept as whole packets plus a remainder below `cost`,
   * so it stays exact although cost * burst can pass 2^53 ns (1/day burst 10000); only a gap of
   * more than 2^53 ns (about 104 days) between two evaluations is itself rounded, by a few hundred
   * nanoseconds at most. A clock that goes backwards refills nothing (and moves nothing back).
   * The bucket lives as long as the compiled rule: loading the rule set into the engine again
   * starts every bucket full (as iptables-restore, which replaces the table, does in the kernel;
   * an `iptables -A` there leaves the other rules' buckets as they were).
   */
  compile(data) {
    const { count, unit } = rateOf(data.avg);
    const cost = Math.floor((unit[2] * NSEC_PER_SEC) / count);
    const burst = data.burst;
    /** Whole packets' worth of tokens in the bucket, and the nanoseconds beyond them (< cost). */
    let whole = burst;
    let part = 0;
    /** The clock at the last evaluation; NaN until the first (the bucket is full until then anyway). */
    let last = Number.NaN;
    return (ctx) => {
      const now = ctx.now;
      if (now > last) {
        const elapsed = Math.floor((now - last) * NSEC_PER_MS);
        last = now;
        if (whole < burst && elapsed > 0) {
          const sum = part + elapsed;
          const rest = sum % cost;
          whole += (sum - rest) / cost;
          part = rest;
          if (whole >= burst) {
            whole = burst;
            part = 0;
          }
        }
      } else if (last !== last) {
        last = now;
      }
      if (whole === 0) return false;
      whole--;
      return true;
    };
  },
  save(data) {
    const { count, unit } = rateOf(data.avg);
    return `--limit ${count}/${unit[0]}${data.burst === DEFAULT_BURST ? "" : ` --limit-burst ${data.burst}`}`;
  },
  print(data) {
    const { count, unit } = rateOf(data.avg);
    return `limit: avg ${count}/${unit[0]} burst ${data.burst}`;
  },
});
