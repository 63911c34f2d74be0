import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { databaseUrl, redisUrl, redisSkipReason } from "../test/harness.ts";
import { distinctPids, sendOnNewConnection, servingClusterForSuite, type ClusterProcess } from "../test/cluster-process.ts";

/**
 * A rate limit holds across the web workers of an instance: in Redis, and without Redis in the primary. The allowance
 * is odd on purpose: shared, 9 requests pass; counted by each of the 2 workers' insurance limiters (half of it each,
 * rounded up), 10 would; counted by each worker alone, 18.
 */
const ALLOWANCE = 9;
/** Fewer than twice the allowance: no block resets the counter. */
const SENT = 15;

const ownKeyPrefix = () => `${new URL(databaseUrl).pathname.slice(1)}:rl-cluster-${randomUUID().slice(0, 8)}:`;

/** Each request on a connection of its own: round-robin spreads them over both workers. */
async function sendAnonymous(port: number, count: number): Promise<Record<number, number>> {
  const counts: Record<number, number> = {};
  for (let index = 0; index < count; index += 1) {
    const { status } = await sendOnNewConnection(port, "GET", "/api/plans");
    counts[status] = (counts[status] ?? 0) + 1;
  }
  return counts;
}

function limitedCluster(env: Record<string, string | undefined>): () => ClusterProcess {
  let cluster: ClusterProcess | undefined;
  servingClusterForSuite((started) => (cluster = started), {
    env: { WEB_CONCURRENCY: "2", RATE_LIMIT_MULTIPLIER: "1", RATE_LIMIT_ANONYMOUS_PER_MIN: String(ALLOWANCE), ...env },
  });
  return () => cluster!;
}

describe.skipIf(!redisUrl)(`rate limits of a cluster in Redis mode (Redis: ${redisSkipReason || "yes"})`, () => {
  const keyPrefix = ownKeyPrefix();
  const cluster = limitedCluster({ REDIS_KEY_PREFIX: keyPrefix });
  const redis = new Redis(redisUrl ?? "redis://127.0.0.1:6379", { lazyConnect: true });
  afterAll(() => redis.disconnect());

  it("counts the requests of both web workers against one allowance, in Redis", async () => {
    expect((await distinctPids(cluster().port, 4)).size).toBe(2);
    expect(await sendAnonymous(cluster().port, SENT)).toEqual({ 200: ALLOWANCE, 429: SENT - ALLOWANCE });
    expect(await redis.get(`${keyPrefix}rl:per-ip:${ALLOWANCE}:127.0.0.1`)).toBe(String(SENT));
  });
});

describe("rate limits of a cluster in local mode (no REDIS_URL)", () => {
  const cluster = limitedCluster({ REDIS_URL: undefined });

  it("counts the requests of both web workers against one allowance, in the primary", async () => {
    expect((await distinctPids(cluster().port, 4)).size).toBe(2);
    expect(await sendAnonymous(cluster().port, SENT)).toEqual({ 200: ALLOWANCE, 429: SENT - ALLOWANCE });
    expect(cluster().errorLines()).toEqual([]);
  });
});
