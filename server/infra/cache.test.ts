import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { CACHE_PRESETS } from "../config/tiers.ts";
import { redisUrl, redisSkipReason } from "../test/harness.ts";
import { sleep } from "../test/traffic.ts";
import { Cache } from "./cache.ts";
import { createRedis } from "./redis.ts";
import { captureLog } from "../test/harness.ts";
import { metricsRegistry } from "./metrics.ts";

/** Caches as two processes of one instance hold them: each its LRU, the same Redis and bus, this run's prefix only. */
const { logger } = captureLog();
const noPeers = { broadcast: async () => undefined, onBroadcast: () => () => undefined };

describe.skipIf(!redisUrl)(`the two-tier cache ${redisUrl ? "" : `(skipped: ${redisSkipReason})`}`, () => {
  const prefix = `cache-test-${randomUUID()}:cache`;
  const caches: Cache[] = [];
  afterAll(async () => {
    await Promise.all(caches.map((cache) => cache.close()));
    const cleaner = new Redis(redisUrl!);
    const keys = await cleaner.keys(`${prefix}*`);
    if (keys.length > 0) await cleaner.del(...keys);
    await cleaner.quit();
  });

  async function newCache(settings: Partial<(typeof CACHE_PRESETS)["starter"]> = {}): Promise<Cache> {
    const [client, subscriber] = [createRedis(redisUrl!, logger), createRedis(redisUrl!, logger)];
    await Promise.all([client.connect(), subscriber.connect()]);
    const cache = new Cache({ settings: { ...CACHE_PRESETS.starter, ...settings }, prefix, redis: { client, subscriber }, peers: noPeers });
    caches.push(cache);
    return cache;
  }

  const counted = async (result: string) =>
    (await metricsRegistry.getSingleMetric("cache_operations_total")!.get()).values
      .filter((value) => value.labels.cache === "community" && value.labels.result === result)
      .reduce((sum, value) => sum + value.value, 0);

  it("runs the loader once for 50 concurrent misses of one key, and counts the reads", async () => {
    const cache = await newCache();
    const missesBefore = await counted("miss");
    let loads = 0;
    const load = async () => {
      loads += 1;
      await sleep(100);
      return { name: "Chess club" };
    };
    const values = await Promise.all(Array.from({ length: 50 }, () => cache.get("community", "single-flight", load)));
    expect(loads).toBe(1);
    expect(values.every((value) => value?.name === "Chess club")).toBe(true);
    expect(await counted("miss")).toBeGreaterThan(missesBefore);
    expect(await cache.get("community", "single-flight", load)).toEqual({ name: "Chess club" });
    expect(loads).toBe(1);
  });

  it("never keeps an absence: a row that appears shows at once", async () => {
    const cache = await newCache();
    const rows: Array<{ name: string }> = [];
    expect(await cache.get("community", "absent", async () => rows[0])).toBeUndefined();
    rows.push({ name: "Created" });
    expect(await cache.get("community", "absent", async () => rows[0])).toEqual({ name: "Created" });
  });

  it("drops a deleted entry from Redis and from the other process's memory", async () => {
    const [writer, reader] = [await newCache(), await newCache()];
    let version = 1;
    const load = async () => ({ version });
    expect(await reader.get("community", "shared", load)).toEqual({ version: 1 });
    version = 2;
    // Still the cached one: the read did not reach the loader.
    expect(await reader.get("community", "shared", load)).toEqual({ version: 1 });
    await writer.delete("community", "shared");
    const deadline = performance.now() + 1_000;
    while ((await reader.get("community", "shared", load))?.version !== 2 && performance.now() < deadline) await sleep(20);
    expect(await reader.get("community", "shared", load)).toEqual({ version: 2 });
  });

  it("serves an expired entry when its loader fails, within the grace period", async () => {
    const cache = await newCache({ communityTtlS: 1 });
    expect(await cache.get("community", "graced", async () => ({ name: "Kept" }))).toEqual({ name: "Kept" });
    await sleep(1_200);
    const failing = async (): Promise<{ name: string }> => {
      throw new Error("database unreachable");
    };
    expect(await cache.get("community", "graced", failing)).toEqual({ name: "Kept" });
    expect(await counted("stale")).toBeGreaterThan(0);
  });
});
