import { describe, expect, it } from "vitest";
import { evaluateSignals, quantileOf, type ProcessSample, type SignalReading, type Snapshot } from "./alert-signals.ts";

const BOUNDS = [0.1, 0.5, 1, 2, 5, Infinity];

/** A process's sample from per-bucket (not cumulative) counts of requests, in the order of BOUNDS. */
function sample(perBucket: number[], fields: Partial<ProcessSample> = {}): ProcessSample {
  let cumulative = 0;
  const buckets = BOUNDS.map((bound, index): [number, number] => [bound, (cumulative += perBucket[index] ?? 0)]);
  // Each request lasts its bucket's lower bound (0.05 s in the first).
  const durationSumS = perBucket.reduce((sum, count, index) => sum + count * (index === 0 ? 0.05 : BOUNDS[index - 1]!), 0);
  return { buckets, durationSumS, requests: cumulative, errors5xx: 0, poolInUse: 0.1, heapUsed: 0.3, webhooksFailedLastHour: 0, ...fields };
}

const snapshot = (at: number, processes: Record<number, ProcessSample>): Snapshot => ({
  at,
  processes: new Map(Object.entries(processes).map(([pid, value]) => [Number(pid), value])),
});

const byName = (readings: SignalReading[]) => Object.fromEntries(readings.map((reading) => [reading.name, reading]));

describe("the alert signals", () => {
  it("interpolate the p95 linearly inside its bucket, and stop at the highest finite bound", () => {
    // 100 requests: 90 under 0.1 s, 10 between 0.5 and 1 s; the 95th is half-way into (0.5, 1].
    expect(
      quantileOf(
        [
          [0.1, 90],
          [0.5, 90],
          [1, 100],
          [Infinity, 100],
        ],
        0.95,
      ),
    ).toBeCloseTo(0.75);
    expect(
      quantileOf(
        [
          [0.1, 0],
          [Infinity, 10],
        ],
        0.95,
      ),
    ).toBe(0.1);
    expect(quantileOf([], 0.95)).toBe(0);
  });

  it("are all ok without traffic and under a light, fast one", () => {
    const quiet = evaluateSignals([], snapshot(0, { 1: sample([]) }));
    expect(quiet.every((reading) => reading.state === "ok")).toBe(true);
    const light = evaluateSignals([snapshot(0, { 1: sample([10]) })], snapshot(15_000, { 1: sample([110]) }));
    expect(byName(light).response_time_mean).toMatchObject({ value: 50, unit: "ms", state: "ok" });
    expect(light.every((reading) => reading.state === "ok")).toBe(true);
  });

  it("judge only the traffic since the window's oldest snapshot, summed over processes, a new process from zero", () => {
    // Slow requests before the window do not count; in the window process 1 served 100 fast ones and process 2
    // (started since) 20 that took 1 to 2 s: the mean is (100 × 0.05 + 20 × 1) / 120 s.
    const oldest = snapshot(0, { 1: sample([0, 0, 0, 0, 500]) });
    const current = snapshot(60_000, { 1: sample([100, 0, 0, 0, 500]), 2: sample([0, 0, 0, 20]) });
    const readings = byName(evaluateSignals([oldest], current));
    expect(readings.response_time_mean!.value).toBeCloseTo(208.3, 1);
    expect(readings.response_time_mean!.state).toBe("ok");
    // The 114th of 120 falls in (1, 2] s, at (114 − 100) / 20 of it.
    expect(readings.response_time_p95).toMatchObject({ value: 1_700, state: "warn" });
  });

  it("turn critical at the analysis's thresholds", () => {
    const current = snapshot(60_000, {
      1: sample([0, 0, 0, 0, 100], { errors5xx: 2, poolInUse: 0.9, heapUsed: 0.85 }),
      2: sample([], { webhooksFailedLastHour: 6 }),
    });
    const readings = byName(evaluateSignals([], current));
    expect(readings.response_time_mean).toMatchObject({ value: 2_000, state: "critical" });
    expect(readings.response_time_p95).toMatchObject({ value: 4_850, state: "critical" });
    expect(readings.error_rate_5xx).toMatchObject({ value: 2, unit: "%", state: "critical" });
    expect(readings.pool_in_use).toMatchObject({ value: 90, state: "critical" });
    expect(readings.heap_used).toMatchObject({ value: 85, state: "critical" });
    expect(readings.webhooks_failed).toMatchObject({ value: 6, state: "critical" });
  });

  it("average gauges over the window, so that one busy moment is not an alert", () => {
    const window = [0, 15_000, 30_000].map((at) => snapshot(at, { 1: sample([], { poolInUse: 0.2 }) }));
    const busyNow = snapshot(45_000, { 1: sample([], { poolInUse: 1 }), 2: sample([], { poolInUse: 0.1 }) });
    expect(byName(evaluateSignals(window, busyNow)).pool_in_use).toMatchObject({ value: 40, state: "ok" });
  });

  it("warn below the critical thresholds: a single failed webhook, 0.5 % to 1 % of 5xx", () => {
    const current = snapshot(60_000, { 1: sample([1_000], { errors5xx: 7, webhooksFailedLastHour: 1 }) });
    const readings = byName(evaluateSignals([], current));
    expect(readings.error_rate_5xx).toMatchObject({ value: 0.7, state: "warn" });
    expect(readings.webhooks_failed).toMatchObject({ value: 1, state: "warn" });
  });
});
