// The soak report's arithmetic: the least-squares slope and the per-series summary.
import { describe, expect, it } from "vitest";
import { slope, summarise, type SoakSample } from "../../src/bench/datapath/soak.ts";

const sample = (seconds: number, rssBytes: number): SoakSample => ({ seconds, rssBytes, heapUsedBytes: 0, packetsIn: 0, dropped: 0, conntrackEntries: 0 });

describe("soak summary", () => {
  it("slope is the least-squares fit, zero for flat or single-point series", () => {
    expect(slope([0, 1, 2, 3], [10, 12, 14, 16])).toBeCloseTo(2);
    expect(slope([0, 1, 2, 3], [5, 5, 5, 5])).toBe(0);
    expect(slope([1], [7])).toBe(0);
    expect(slope([0, 1, 2], [3, 1, 2])).toBeCloseTo(-0.5);
  });

  it("summarise gives start, end, max and slopes per minute (whole run and second half)", () => {
    // 1 MiB more per minute for 4 minutes, then flat for 4 minutes.
    const samples = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((m) => sample(m * 60, (100 + Math.min(m, 4)) * 1048576));
    const s = summarise(samples, (x) => x.rssBytes);
    expect(s.start).toBe(100 * 1048576);
    expect(s.end).toBe(104 * 1048576);
    expect(s.max).toBe(104 * 1048576);
    expect(s.slopePerMinute).toBeGreaterThan(0);
    expect(s.secondHalfSlopePerMinute).toBe(0);
  });
});
