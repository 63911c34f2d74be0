// Latencies kept as a log-scale histogram (bucket b holds latencies from e^(b/K) to e^((b+1)/K) µs, K = BUCKETS_PER_E,
// about 2% wide), so that wrk's Lua script can count them by class and status without keeping every sample.

export const BUCKETS_PER_E = 50;

/** Bucket index (as a string) → number of latencies in it. */
export type LatencyBuckets = Record<string, number>;

export function bucketOf(latencyMs: number): string {
  return String(Math.floor(Math.log(Math.max(1, latencyMs * 1000)) * BUCKETS_PER_E));
}

export function addLatency(buckets: LatencyBuckets, latencyMs: number): void {
  const bucket = bucketOf(latencyMs);
  buckets[bucket] = (buckets[bucket] ?? 0) + 1;
}

export function mergeBuckets(...all: LatencyBuckets[]): LatencyBuckets {
  const merged: LatencyBuckets = {};
  for (const buckets of all) for (const [bucket, n] of Object.entries(buckets)) merged[bucket] = (merged[bucket] ?? 0) + n;
  return merged;
}

export function countOf(buckets: LatencyBuckets): number {
  return Object.values(buckets).reduce((sum, n) => sum + n, 0);
}

/** The p-th percentile (0–100) in ms, read as the geometric middle of its bucket; undefined when there is none. */
export function percentile(buckets: LatencyBuckets, p: number): number | undefined {
  const total = countOf(buckets);
  if (total === 0) return undefined;
  const rank = Math.max(1, Math.ceil((p / 100) * total));
  let seen = 0;
  for (const bucket of Object.keys(buckets)
    .map(Number)
    .sort((a, b) => a - b)) {
    seen += buckets[String(bucket)] ?? 0;
    if (seen >= rank) return Math.exp((bucket + 0.5) / BUCKETS_PER_E) / 1000;
  }
  return undefined;
}

/** `a / b`, or undefined when there is nothing to divide by. */
export function ratio(a: number, b: number | undefined): number | undefined {
  return b === undefined || b <= 0 ? undefined : a / b;
}
