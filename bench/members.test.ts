import { describe, expect, it } from "vitest";
import { codesNeeded } from "./members-setup.ts";
import { DEFAULT_STEPS, largestPassing, parseSteps, percentile, personaOf, thinkTimeMs, type StepResult } from "./members.ts";

const step = (members: number, p95Ms: number, errors = 0): StepResult => ({
  members,
  requests: 100,
  reqPerSec: 10,
  p50Ms: p95Ms / 2,
  p95Ms,
  errors,
  errorKinds: [],
  slowest: [],
  generatorCores: 0.1,
  loadAverage: 1,
});

describe("the simulated members' arithmetic", () => {
  it("draws think times whose mean is the one asked for, none negative", () => {
    const draws = Array.from({ length: 100_000 }, () => thinkTimeMs(5_000));
    const mean = draws.reduce((sum, ms) => sum + ms, 0) / draws.length;
    expect(mean).toBeGreaterThan(4_900);
    expect(mean).toBeLessThan(5_100);
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    // Exponential, not constant: about 37% of the draws exceed the mean.
    expect(draws.filter((ms) => ms > 5_000).length / draws.length).toBeCloseTo(Math.exp(-1), 1);
  });

  it("takes the nearest-rank percentile, in any order", () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(values, 95)).toBe(95);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([], 95)).toBeNaN();
  });

  it("reads rising member counts, the default when unset, and refuses others", () => {
    expect(parseSteps(undefined)).toEqual(DEFAULT_STEPS);
    expect(parseSteps(" 10, 20,40 ")).toEqual([10, 20, 40]);
    for (const bad of ["10,10", "20,10", "0,5", "ten", "1.5"]) expect(() => parseSteps(bad), bad).toThrow(/rising whole numbers/);
  });

  it("reports the last count before the first failure: p95 at or over 500 ms, or any error", () => {
    expect(largestPassing([step(25, 40), step(50, 90), step(100, 500)])?.members).toBe(50);
    expect(largestPassing([step(25, 40), step(50, 90, 1)])?.members).toBe(25);
    expect(largestPassing([step(25, 40), step(50, 499)])?.members).toBe(50);
    expect(largestPassing([step(25, 700)])).toBeUndefined();
  });

  it("keeps the mix in any first N members, with a scanner at the door from the first", () => {
    const mix = (n: number) => Array.from({ length: n }, (_, i) => personaOf(i));
    expect(mix(1)).toEqual(["door"]);
    const hundred = mix(100);
    expect(hundred.filter((p) => p === "door")).toHaveLength(5);
    expect(hundred.filter((p) => p === "payer")).toHaveLength(10);
    expect(hundred.filter((p) => p === "admin")).toHaveLength(10);
    // 5 scanners, a scan every 2 s for 25 s: about 63 scans; twice that and some codes are seeded.
    expect(codesNeeded(100, 25_000)).toBe(175);
  });
});
