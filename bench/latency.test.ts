import { describe, expect, it } from "vitest";
import { addLatency, mergeBuckets, percentile, ratio, type LatencyBuckets } from "./latency.ts";
import { weightedPicker } from "./mixed.ts";
import { slope, summarize } from "./soak.ts";

describe("latency buckets", () => {
  it("give percentiles within their 2% width of the exact ones", () => {
    const buckets: LatencyBuckets = {};
    const samples = Array.from({ length: 1000 }, (_, i) => 1 + i * 0.5); // 1 ms to 500.5 ms
    for (const sample of samples) addLatency(buckets, sample);
    expect(percentile(buckets, 50)! / 250.5).toBeCloseTo(1, 1);
    expect(Math.abs(percentile(buckets, 99)! / 495.5 - 1)).toBeLessThan(0.02);
    expect(Math.abs(percentile(buckets, 100)! / 500.5 - 1)).toBeLessThan(0.02);
  });

  it("merge by adding counts, and have no percentile when empty", () => {
    const fast: LatencyBuckets = {};
    const slow: LatencyBuckets = {};
    for (let i = 0; i < 90; i++) addLatency(fast, 1);
    for (let i = 0; i < 10; i++) addLatency(slow, 1000);
    const both = mergeBuckets(fast, slow);
    expect(percentile(both, 90)!).toBeLessThan(1.05);
    expect(percentile(both, 91)!).toBeGreaterThan(950);
    expect(percentile({}, 99)).toBeUndefined();
  });
});

describe("ratios", () => {
  it("divide, and are undefined without a denominator", () => {
    expect(ratio(50, 200)).toBe(0.25);
    expect(ratio(50, 0)).toBeUndefined();
    expect(ratio(50, undefined)).toBeUndefined();
  });
});

describe("the mixed peak's draw", () => {
  it("picks each class in proportion to its weight", () => {
    let seed = 1;
    const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    const pick = weightedPicker({ a: 60, b: 30, c: 10 }, random);
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
    for (let i = 0; i < 10_000; i++) counts[pick()]! += 1;
    expect(counts.a! / 10_000).toBeCloseTo(0.6, 1);
    expect(counts.b! / 10_000).toBeCloseTo(0.3, 1);
    expect(counts.c! / 10_000).toBeCloseTo(0.1, 1);
  });
});

describe("the soak's memory summary", () => {
  it("fits the slope after the first minute, and keeps first, last and max per process", () => {
    // pid 1 grows 60 MiB in its first minute, then 1 MiB a minute; pid 2 is flat.
    const samples = Array.from({ length: 19 }, (_, i) => {
      const atS = i * 10;
      const grown = atS < 60 ? atS : 60 + (atS - 60) / 60;
      return {
        atS,
        mib: new Map([
          [1, 100 + grown],
          [2, 80],
        ]),
      };
    });
    const [growing, flat] = summarize(
      samples,
      new Map([
        [1, "web"],
        [2, "worker"],
      ]),
      60,
    );
    expect(growing).toMatchObject({ pid: 1, samples: 19, firstMiB: 100, lastMiB: 162 });
    expect(growing!.slopeMiBPerMin).toBeCloseTo(1, 5);
    expect(flat!.floorPerMinuteMiB).toEqual([80, 80, 80, 80]);
    expect(flat!.slopeMiBPerMin).toBe(0);
    expect(slope([{ x: 0, y: 1 }])).toBe(0);
  });
});
