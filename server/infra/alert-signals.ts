import type { MetricObjectWithValues, MetricValue } from "prom-client";
import type { SignalReading } from "../../shared/api/ops.ts";

/**
 * The alert signals of the capacity analysis, evaluated over aggregated metrics: pure functions over samples, so
 * that the primary (over the cluster) and a web worker run alone (over its own registry) judge alike.
 */

export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/** One process's metrics as gathered for the instance. */
export interface ProcessMetrics {
  role: string;
  pid: number;
  metrics: MetricsJson;
}

/** What one process's metrics say for the signals, at one moment. Counters are cumulative since the process started. */
export interface ProcessSample {
  /** Request durations over every route: [upper bound in s, cumulative count], ascending, +Inf last. */
  buckets: Array<[number, number]>;
  durationSumS: number;
  requests: number;
  errors5xx: number;
  /** Connections in use over the pool's max, 0 to 1; undefined for a process without a pool. */
  poolInUse: number | undefined;
  heapUsed: number | undefined;
  webhooksFailedLastHour: number;
}

export interface Snapshot {
  at: number;
  /** By pid: a restarted process is a new one, whose counters start from zero. */
  processes: Map<number, ProcessSample>;
}

export type { SignalReading, SignalState } from "../../shared/api/ops.ts";

/** Critical at the analysis's thresholds; warn below, early enough to act before users feel it. */
const THRESHOLDS = {
  response_time_mean: { unit: "ms", warn: 300, critical: 500 },
  response_time_p95: { unit: "ms", warn: 1_000, critical: 2_000 },
  error_rate_5xx: { unit: "%", warn: 0.5, critical: 1 },
  pool_in_use: { unit: "%", warn: 60, critical: 80 },
  heap_used: { unit: "%", warn: 70, critical: 80 },
  webhooks_failed: { unit: "per hour", warn: 0, critical: 5 },
} as const;

export type SignalName = keyof typeof THRESHOLDS;
export const SIGNAL_NAMES = Object.keys(THRESHOLDS) as SignalName[];

/** A histogram's values name their series (`_bucket`, `_sum`, `_count`). */
type Entry = MetricValue<string> & { metricName?: string };
const valuesOf = (metrics: MetricsJson, name: string): Entry[] => metrics.find((metric) => metric.name === name)?.values ?? [];
const total = (values: ReadonlyArray<{ value: number }>) => values.reduce((sum, entry) => sum + entry.value, 0);

function bucketsOf(metrics: MetricsJson): Array<[number, number]> {
  const byBound = new Map<number, number>();
  for (const entry of valuesOf(metrics, "http_request_duration_seconds")) {
    if (entry.metricName !== "http_request_duration_seconds_bucket") continue;
    const bound = entry.labels.le === "+Inf" ? Infinity : Number(entry.labels.le);
    byBound.set(bound, (byBound.get(bound) ?? 0) + entry.value);
  }
  return [...byBound].sort(([a], [b]) => a - b);
}

function ratio(used: number | undefined, limit: number | undefined): number | undefined {
  return used === undefined || !limit ? undefined : used / limit;
}

export function processSample(metrics: MetricsJson): ProcessSample {
  const duration = valuesOf(metrics, "http_request_duration_seconds");
  const requests = valuesOf(metrics, "http_requests_total");
  const pool = valuesOf(metrics, "db_pool_connections");
  const single = (name: string) => valuesOf(metrics, name)[0]?.value;
  const poolTotal = pool.find((entry) => entry.labels.state === "total")?.value;
  const poolIdle = pool.find((entry) => entry.labels.state === "idle")?.value ?? 0;
  return {
    buckets: bucketsOf(metrics),
    durationSumS: total(duration.filter((entry) => entry.metricName === "http_request_duration_seconds_sum")),
    requests: total(requests),
    errors5xx: total(requests.filter((entry) => Number(entry.labels.status) >= 500)),
    poolInUse: ratio(poolTotal === undefined ? undefined : poolTotal - poolIdle, single("db_pool_max_connections")),
    heapUsed: ratio(single("nodejs_heap_size_used_bytes"), single("nodejs_heap_size_limit_bytes")),
    webhooksFailedLastHour: single("webhook_events_failed_last_hour") ?? 0,
  };
}

export function snapshotOf(processes: readonly ProcessMetrics[], at: number): Snapshot {
  return { at, processes: new Map(processes.map((entry) => [entry.pid, processSample(entry.metrics)])) };
}

interface Traffic {
  buckets: Array<[number, number]>;
  durationSumS: number;
  requests: number;
  errors5xx: number;
}

/** Counters' growth from `baseline` to `current`, process by process (one absent from the baseline started since, from zero). */
function trafficBetween(baseline: Snapshot | undefined, current: Snapshot): Traffic {
  const sum: Traffic = { buckets: [], durationSumS: 0, requests: 0, errors5xx: 0 };
  const byBound = new Map<number, number>();
  for (const [pid, now] of current.processes) {
    const before = baseline?.processes.get(pid);
    const growth = (nowValue: number, beforeValue: number | undefined) => Math.max(0, nowValue - (beforeValue ?? 0));
    sum.durationSumS += growth(now.durationSumS, before?.durationSumS);
    sum.requests += growth(now.requests, before?.requests);
    sum.errors5xx += growth(now.errors5xx, before?.errors5xx);
    for (const [bound, count] of now.buckets) {
      const earlier = before?.buckets.find(([candidate]) => candidate === bound)?.[1];
      byBound.set(bound, (byBound.get(bound) ?? 0) + growth(count, earlier));
    }
  }
  sum.buckets = [...byBound].sort(([a], [b]) => a - b);
  return sum;
}

/**
 * The quantile from cumulative bucket counts, interpolated linearly inside its bucket as Prometheus's
 * histogram_quantile does; in the +Inf bucket, the highest finite bound.
 */
export function quantileOf(buckets: ReadonlyArray<[number, number]>, quantile: number): number {
  const count = buckets.at(-1)?.[1] ?? 0;
  if (count === 0) return 0;
  const rank = quantile * count;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [bound, cumulative] of buckets) {
    if (cumulative >= rank) {
      if (bound === Infinity) return lowerBound;
      return lowerBound + ((bound - lowerBound) * (rank - lowerCount)) / (cumulative - lowerCount || 1);
    }
    lowerBound = bound;
    lowerCount = cumulative;
  }
  return lowerBound;
}

/** The busiest process's ratio, averaged over the snapshots that have one. */
function meanOfHighest(snapshots: readonly Snapshot[], pick: (sample: ProcessSample) => number | undefined): number {
  const highest = snapshots.flatMap((snapshot) => {
    const ratios = [...snapshot.processes.values()].flatMap((sample) => pick(sample) ?? []);
    return ratios.length > 0 ? [Math.max(...ratios)] : [];
  });
  return highest.length > 0 ? highest.reduce((a, b) => a + b, 0) / highest.length : 0;
}

const round = (value: number) => Math.round(value * 10) / 10;

function reading(name: SignalName, value: number): SignalReading {
  const { unit, warn, critical } = THRESHOLDS[name];
  const state = value > critical ? "critical" : value > warn ? "warn" : "ok";
  return { name, value: round(value), unit, threshold: { warn, critical }, state };
}

/**
 * Every signal over the window: rates and latencies from the counters' growth since the window's oldest snapshot
 * (since the processes started when there is none), gauges averaged over the window's snapshots and `current`.
 */
export function evaluateSignals(window: readonly Snapshot[], current: Snapshot): SignalReading[] {
  const traffic = trafficBetween(window[0], current);
  const snapshots = [...window, current];
  const webhooksFailed = [...current.processes.values()].reduce((sum, sample) => sum + sample.webhooksFailedLastHour, 0);
  return [
    reading("response_time_mean", traffic.requests > 0 ? (traffic.durationSumS / traffic.requests) * 1_000 : 0),
    reading("response_time_p95", quantileOf(traffic.buckets, 0.95) * 1_000),
    reading("error_rate_5xx", traffic.requests > 0 ? (traffic.errors5xx / traffic.requests) * 100 : 0),
    reading("pool_in_use", meanOfHighest(snapshots, (sample) => sample.poolInUse) * 100),
    reading("heap_used", meanOfHighest(snapshots, (sample) => sample.heapUsed) * 100),
    reading("webhooks_failed", webhooksFailed),
  ];
}
