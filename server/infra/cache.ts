import { BentoCache, bentostore, errors } from "bentocache";
import { memoryDriver } from "bentocache/drivers/memory";
import { redisDriver } from "bentocache/drivers/redis";
import type { CacheProvider } from "bentocache/types";
import type { Redis } from "ioredis";
import type { CachePreset } from "../config/tiers.ts";
import { cacheOperations } from "./metrics.ts";
import { peersBusDriver, redisPubSubBusDriver, type Peers } from "./cache-bus.ts";

/**
 * The two-tier cache of hot reads (docs/decisions/0007-two-tier-cache.md):
 * each process's LRU, bounded in bytes, in front of Redis, kept by bentocache.
 * Concurrent misses of one key run its loader once; an entry past its TTL is
 * served while one refresh runs, and within the grace period when the loader
 * fails (the database is down). A delete reaches Redis and, over the bus, the
 * LRU of every process of every instance. Without Redis (local mode): the LRU
 * alone, its deletes carried to the other processes through the primary.
 */

/** Each cache's TTL comes from the tier (server/config/tiers.ts). */
const TTL_OF = {
  plans: "plansTtlS",
  community: "communityTtlS",
  sessionUser: "sessionUserTtlS",
  memberRole: "memberRoleTtlS",
} as const satisfies Record<string, keyof CachePreset>;

export type CacheName = keyof typeof TTL_OF;

/**
 * The LRU is bounded in bytes (maxMb) and in entries: it allocates its bookkeeping for every entry it may hold (about
 * 50 bytes each) as soon as it is made, so the count follows the budget, one entry per 256 bytes of it (a profile or
 * a signed-in user takes about that; many roles, smaller, reach the count first). A fixed million would take 40 MB of
 * every process for nothing.
 */
const BYTES_PER_ENTRY = 256;

/** After an error Redis is left alone this long: reads go to the LRU and the database without waiting on it. */
const L2_BREAK = "10s";

export interface CacheOptions {
  settings: CachePreset;
  /** `${REDIS_KEY_PREFIX}cache`: keys and bus channel of this deployment only. */
  prefix: string;
  /** Absent in local mode. `subscriber`: the bus's connection of its own. */
  redis?: { client: Redis; subscriber: Redis } | undefined;
  /** Local mode's bus: this machine's other processes. */
  peers: Peers;
}

export class Cache {
  readonly #bento: BentoCache<{ main: ReturnType<typeof bentostore> }>;
  /** Made once: bentocache's single flight holds its locks per namespace object. */
  readonly #namespaces: Record<CacheName, CacheProvider>;
  readonly #ttlMs: Record<CacheName, number>;
  /**
   * Without Redis a loaded entry is not announced: the others would mark theirs stale, reload and announce in turn,
   * over and over. Only deletes travel, and an LRU never holds a value another process wrote.
   */
  readonly #announceLoads: boolean;

  constructor(options: CacheOptions) {
    const { settings, prefix, redis, peers } = options;
    const store = bentostore({ grace: `${settings.graceS}s`, l2CircuitBreakerDuration: L2_BREAK }).useL1Layer(
      memoryDriver({ maxSize: `${settings.maxMb}mb`, maxItems: (settings.maxMb * 1024 * 1024) / BYTES_PER_ENTRY }),
    );
    if (redis) {
      store
        .useL2Layer(redisDriver({ connection: redis.client }))
        .useBus(redisPubSubBusDriver(redis.client, redis.subscriber, `${prefix}:`));
    } else {
      store.useBus(peersBusDriver(peers));
    }
    this.#bento = new BentoCache({ default: "main", prefix, stores: { main: store } });
    const names = Object.keys(TTL_OF) as CacheName[];
    this.#namespaces = Object.fromEntries(names.map((name) => [name, this.#bento.namespace(name)])) as Record<CacheName, CacheProvider>;
    this.#ttlMs = Object.fromEntries(names.map((name) => [name, settings[TTL_OF[name]] * 1_000])) as Record<CacheName, number>;
    this.#announceLoads = redis !== undefined;
  }

  /**
   * The entry, or what `load` gives on a miss (once for all concurrent callers). Absence (undefined) is never kept:
   * a row created by any path, a migration or an operator's psql included, shows at once.
   */
  async get<T>(name: CacheName, key: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
    // Where the loader stood when the value came back: never run (hit), done (miss), or still running or failed, so
    // that an expired entry was served (stale: while it refreshes, or within the grace period).
    const loading = { state: "idle" as "idle" | "running" | "done" | "failed" };
    try {
      const value: T | null | undefined = await this.#namespaces[name].getOrSet({
        key,
        ttl: this.#ttlMs[name],
        skipBusNotify: !this.#announceLoads,
        factory: async (context) => {
          loading.state = "running";
          try {
            const loaded = await load();
            loading.state = "done";
            return loaded ?? context.skip();
          } catch (error) {
            loading.state = "failed";
            throw error;
          }
        },
      });
      const result = loading.state === "idle" ? "hit" : loading.state === "done" ? "miss" : "stale";
      cacheOperations.inc({ cache: name, result });
      return value ?? undefined;
    } catch (error) {
      // The loader's own error (the database's, say), for the error handler to classify.
      throw error instanceof errors.E_FACTORY_ERROR ? error.cause : error;
    }
  }

  /** Call it once the transaction that changed the row has committed: before, a reader could cache the old row again. */
  async delete(name: CacheName, ...keys: string[]): Promise<void> {
    await this.#namespaces[name].deleteMany({ keys });
  }

  /** Every entry of one cache, everywhere: for a change whose keys are not at hand. */
  async clear(name: CacheName): Promise<void> {
    await this.#namespaces[name].clear();
  }

  async close(): Promise<void> {
    await this.#bento.disconnectAll();
  }
}
