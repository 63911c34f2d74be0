import { CACHE_PRESETS, TIER_PRESETS, type CachePreset, type CapacityTier } from "./tiers.ts";

/** Values an operator may set explicitly; anything left undefined comes from the tier. */
export interface CapacityOverrides {
  webWorkers?: number | undefined;
  dbConnectionBudget?: number | undefined;
  dbConnectionReserve?: number | undefined;
  dbStatementTimeoutMs?: number | undefined;
  maxConnectionsPerWorker?: number | undefined;
  bodyLimitKb?: number | undefined;
  maxInFlightPerWorker?: number | undefined;
  maxEventLoopDelayMs?: number | undefined;
  cacheCommunityTtlS?: number | undefined;
  cacheMaxMb?: number | undefined;
}

export interface CapacityPlan {
  tier: CapacityTier;
  cpus: number;
  webWorkers: number;
  /** Web workers plus the one background worker: every process that holds a pool. */
  poolProcesses: number;
  dbConnectionBudget: number;
  dbConnectionReserve: number;
  poolMaxPerProcess: number;
  poolMinPerProcess: number;
  /** Connections all pools together may open: poolProcesses × poolMaxPerProcess. */
  poolConnectionsTotal: number;
  dbStatementTimeoutMs: number;
  maxConnectionsPerWorker: number;
  bodyLimitBytes: number;
  /** Load shedding of each web worker; 0 turns a limit off. */
  maxInFlightPerWorker: number;
  maxEventLoopDelayMs: number;
  cache: CachePreset;
}

export class CapacityPlanError extends Error {
  override name = "CapacityPlanError";
}

/** The smallest useful pool: one connection for a request, one for a concurrent one or a transaction. */
export const MIN_POOL_MAX = 2;

/**
 * Turns a tier, the operator's overrides and the CPU count into the plan every
 * process follows. Pure, so the primary, each worker and `npm run capacity`
 * compute the same plan from the same inputs.
 */
export function planCapacity(tier: CapacityTier, overrides: CapacityOverrides, cpus: number): CapacityPlan {
  const preset = TIER_PRESETS[tier];
  const webWorkers = overrides.webWorkers ?? Math.max(1, Math.min(cpus, preset.maxWebWorkers));
  const budget = overrides.dbConnectionBudget ?? preset.dbConnectionBudget;
  const reserve = overrides.dbConnectionReserve ?? preset.dbConnectionReserve;
  const poolProcesses = webWorkers + 1;
  const poolMax = Math.floor((budget - reserve) / poolProcesses);
  if (poolMax < MIN_POOL_MAX) {
    throw new CapacityPlanError(
      `DB_CONNECTION_BUDGET=${budget} is too small for ${webWorkers} web worker(s) + 1 background worker: ` +
        `(${budget} - ${reserve} reserved) / ${poolProcesses} processes = ${poolMax} connection(s) per pool, ` +
        `at least ${MIN_POOL_MAX} are needed. Raise DB_CONNECTION_BUDGET to ${MIN_POOL_MAX * poolProcesses + reserve} ` +
        `or lower WEB_CONCURRENCY.`,
    );
  }
  return {
    tier,
    cpus,
    webWorkers,
    poolProcesses,
    dbConnectionBudget: budget,
    dbConnectionReserve: reserve,
    poolMaxPerProcess: poolMax,
    poolMinPerProcess: Math.min(preset.dbPoolMin, poolMax),
    poolConnectionsTotal: poolMax * poolProcesses,
    dbStatementTimeoutMs: overrides.dbStatementTimeoutMs ?? preset.dbStatementTimeoutMs,
    maxConnectionsPerWorker: overrides.maxConnectionsPerWorker ?? preset.maxConnectionsPerWorker,
    bodyLimitBytes: (overrides.bodyLimitKb ?? preset.bodyLimitKb) * 1024,
    maxInFlightPerWorker: overrides.maxInFlightPerWorker ?? preset.maxInFlightPerWorker,
    maxEventLoopDelayMs: overrides.maxEventLoopDelayMs ?? preset.maxEventLoopDelayMs,
    cache: {
      ...CACHE_PRESETS[tier],
      communityTtlS: overrides.cacheCommunityTtlS ?? CACHE_PRESETS[tier].communityTtlS,
      maxMb: overrides.cacheMaxMb ?? CACHE_PRESETS[tier].maxMb,
    },
  };
}

/**
 * The server must accept every connection of the plan: the budget may not exceed
 * what Postgres allows to ordinary roles.
 */
export function checkBudgetAgainstServer(plan: CapacityPlan, maxConnections: number, superuserReserved: number): void {
  const available = maxConnections - superuserReserved;
  if (plan.dbConnectionBudget > available) {
    throw new CapacityPlanError(
      `DB_CONNECTION_BUDGET=${plan.dbConnectionBudget} exceeds what the database accepts: ` +
        `max_connections=${maxConnections} minus superuser_reserved_connections=${superuserReserved} = ${available}. ` +
        `Lower DB_CONNECTION_BUDGET (or CAPACITY_TIER) or raise max_connections on the server.`,
    );
  }
}
