/**
 * Capacity tiers, from the product's capacity analysis: `starter` for under 500
 * daily users, `growth` for 500 to 2,000, `scale` above. Each value is a default
 * that its own environment variable overrides (see env.ts).
 */
export const CAPACITY_TIERS = ["starter", "growth", "scale"] as const;
export type CapacityTier = (typeof CAPACITY_TIERS)[number];

export interface TierPreset {
  /** Web workers when WEB_CONCURRENCY is unset: one per CPU, capped for small tiers. */
  maxWebWorkers: number;
  /** Postgres connections the whole deployment may open (every pool of every process). */
  dbConnectionBudget: number;
  /** Connections kept out of the pools: migrations, the primary's checks, an operator's psql. */
  dbConnectionReserve: number;
  /** Connections each pool keeps open when idle, so a burst does not pay for connecting. */
  dbPoolMin: number;
  /** Longest a single SQL statement may run before Postgres cancels it. */
  dbStatementTimeoutMs: number;
  /** Open sockets one web worker accepts before refusing more (server.maxConnections). */
  maxConnectionsPerWorker: number;
  /** Largest JSON body accepted, in kB. */
  bodyLimitKb: number;
  /** Requests a second one instance serves in all before refusing with 429: a safety net far above normal traffic. */
  rateLimitGlobalPerS: number;
  /**
   * Requests one web worker serves at once; more are refused with 503 `overloaded`. The count mixes cached reads (served
   * in milliseconds, dozens at once) with database-bound requests: it is set so that 100 busy connections on 2 workers,
   * the analysis's peak, are never refused (docs/capacity.md, Load shedding).
   */
  maxInFlightPerWorker: number;
  /** Event-loop delay (p99 over half a second, ms) above which a web worker refuses requests with 503 `overloaded`. */
  maxEventLoopDelayMs: number;
}

export const TIER_PRESETS: Record<CapacityTier, TierPreset> = {
  starter: {
    maxWebWorkers: 2,
    dbConnectionBudget: 20,
    dbConnectionReserve: 4,
    dbPoolMin: 1,
    dbStatementTimeoutMs: 15_000,
    maxConnectionsPerWorker: 512,
    bodyLimitKb: 100,
    rateLimitGlobalPerS: 300,
    maxInFlightPerWorker: 64,
    maxEventLoopDelayMs: 200,
  },
  growth: {
    maxWebWorkers: 8,
    dbConnectionBudget: 40,
    dbConnectionReserve: 5,
    dbPoolMin: 2,
    dbStatementTimeoutMs: 10_000,
    maxConnectionsPerWorker: 1_024,
    bodyLimitKb: 100,
    rateLimitGlobalPerS: 1_000,
    maxInFlightPerWorker: 128,
    maxEventLoopDelayMs: 200,
  },
  scale: {
    maxWebWorkers: 32,
    dbConnectionBudget: 90,
    dbConnectionReserve: 10,
    dbPoolMin: 2,
    dbStatementTimeoutMs: 5_000,
    maxConnectionsPerWorker: 4_096,
    bodyLimitKb: 100,
    rateLimitGlobalPerS: 4_000,
    maxInFlightPerWorker: 256,
    maxEventLoopDelayMs: 200,
  },
};

/**
 * The two-tier cache (server/infra/cache.ts) of each tier, in seconds. Writes invalidate entries at once; a TTL only
 * bounds what no invalidation reaches. A community's profile lives longer on bigger tiers, where its reads are many.
 */
export interface CachePreset {
  /** A community's public profile: between 5 and 15 minutes. */
  communityTtlS: number;
  /** The plans change by a migration, at a release. */
  plansTtlS: number;
  /** The signed-in user read on every request; short, since a plan change moves its rate allowance without invalidating it. */
  sessionUserTtlS: number;
  /** A member's role in a community. */
  memberRoleTtlS: number;
  /** How long past its TTL an entry is still served when the database fails to give a fresh one. */
  graceS: number;
  /** Bound of each process's in-memory layer, in MB. */
  maxMb: number;
}

const CACHE_COMMON = { plansTtlS: 3_600, sessionUserTtlS: 60, memberRoleTtlS: 300, graceS: 6 * 3_600 };

export const CACHE_PRESETS: Record<CapacityTier, CachePreset> = {
  starter: { ...CACHE_COMMON, communityTtlS: 300, maxMb: 16 },
  growth: { ...CACHE_COMMON, communityTtlS: 600, maxMb: 32 },
  scale: { ...CACHE_COMMON, communityTtlS: 900, maxMb: 64 },
};
