// Where the benchmarked product keeps its data: DATABASE_URL / REDIS_URL when
// set, else the local services when they answer (a database of this run's own,
// named uniquely and dropped at the end, so figures do not drift with leftover
// rows and two benches on one server never touch each other's data), else the
// product's own defaults (embedded Postgres, local mode). In Redis the run's keys
// (sessions, cache, rate-limit counters) carry a prefix of its own, dropped at
// the end too: one run's counters never refuse the next one's requests.
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { answers, ownDatabase } from "../server/test/services.ts";

export interface BenchServices {
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  /** The product's REDIS_KEY_PREFIX for this run. */
  redisKeyPrefix: string;
  /** Drops what the run created: its own database, its keys in Redis. */
  release(): Promise<void>;
}

/**
 * The product's RATE_LIMIT_MULTIPLIER in a bench: every request is counted against its limits, as in production, and
 * none refused, although all the bench's clients share one address (120 a minute becomes 12 million).
 */
export const RATE_LIMITS_COUNT_ONLY = "100000";

const LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres";

export async function resolveBenchServices(): Promise<BenchServices> {
  const given = process.env.DATABASE_URL || undefined;
  const own = !given && (await answers("127.0.0.1", 5432)) ? await ownDatabase(LOCAL_POSTGRES, "community_bench") : undefined;
  const redisUrl = process.env.REDIS_URL || ((await answers("127.0.0.1", 6379)) ? "redis://127.0.0.1:6379" : undefined);
  const redisKeyPrefix = `bench-${randomBytes(4).toString("hex")}:`;
  return {
    databaseUrl: given ?? own?.url,
    redisUrl,
    redisKeyPrefix,
    release: async () => {
      await own?.drop();
      if (redisUrl) await dropRedisKeys(redisUrl, redisKeyPrefix);
    },
  };
}

async function dropRedisKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true });
  await redis.connect();
  try {
    for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 500 }) as AsyncIterable<string[]>) {
      if (keys.length > 0) await redis.unlink(...keys);
    }
  } finally {
    redis.disconnect();
  }
}
