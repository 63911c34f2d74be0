import type { Redis } from "ioredis";
import { poolStats, type DbPool, type PoolStats } from "./db/pool.ts";
import type { BreakerState, DatabaseBreaker, DatabaseCheck } from "./db/breaker.ts";
import { checkRedis, type RedisCheck } from "./redis.ts";
import { withDeadline } from "./deadline.ts";

/** The queue check waits this long for the database. */
const QUEUE_CHECK_TIMEOUT_MS = 2_000;
/** A result is reused this long, so load balancer probes cannot hammer the database or Redis. */
export const HEALTH_CACHE_MS = 1_000;

export type Readiness = "starting" | "ready" | "draining";

export interface HealthReport {
  status: "healthy" | "degraded" | "unhealthy";
  checks: {
    database: DatabaseCheck & { breaker: BreakerState };
    redis: RedisCheck;
    queue: { status: "up" | "down"; pending?: number; oldestPendingS?: number };
  };
  pool: PoolStats;
  pid: number;
  uptimeS: number;
  memory: { rssMb: number; heapUsedMb: number };
  version: string;
}

export interface HealthDeps {
  pool: DbPool;
  poolMax: number;
  breaker: DatabaseBreaker;
  redis: Redis | undefined;
  version: string;
}

interface DependencyChecks {
  database: DatabaseCheck;
  redis: RedisCheck;
  queue: HealthReport["checks"]["queue"];
}

interface CachedChecks {
  /** Unset while the round is in flight. */
  settledAt: number | undefined;
  checks: Promise<DependencyChecks>;
}

export class HealthMonitor {
  #readiness: Readiness = "starting";
  #cached: CachedChecks | undefined;

  constructor(private readonly deps: HealthDeps) {}

  get readiness(): Readiness {
    return this.#readiness;
  }

  markReady(): void {
    if (this.#readiness === "starting") this.#readiness = "ready";
  }

  markDraining(): void {
    this.#readiness = "draining";
  }

  async report(): Promise<HealthReport> {
    const { database, redis, queue } = await this.#dependencyChecks();
    const breaker = this.deps.breaker.state;
    const memory = process.memoryUsage();
    return {
      status: overallStatus(database, breaker, redis, queue),
      checks: { database: { ...database, breaker }, redis, queue },
      pool: poolStats(this.deps.pool, this.deps.poolMax),
      pid: process.pid,
      uptimeS: Math.round(process.uptime()),
      memory: { rssMb: toMb(memory.rss), heapUsedMb: toMb(memory.heapUsed) },
      version: this.deps.version,
    };
  }

  /** Probes share the round in flight, and its result for a second after it settles. */
  #dependencyChecks(): Promise<DependencyChecks> {
    const cached = this.#cached;
    if (cached && (cached.settledAt === undefined || Date.now() - cached.settledAt < HEALTH_CACHE_MS)) return cached.checks;
    const entry: CachedChecks = {
      settledAt: undefined,
      checks: Promise.all([this.deps.breaker.latestCheck(), checkRedis(this.deps.redis), this.#checkQueue()]).then(
        ([database, redis, queue]) => {
          entry.settledAt = Date.now();
          return { database, redis, queue };
        },
      ),
    };
    this.#cached = entry;
    return entry.checks;
  }

  /** Jobs waiting to run: a growing number or age means the background worker is down or overwhelmed. */
  async #checkQueue(): Promise<DependencyChecks["queue"]> {
    try {
      const result = await withDeadline(
        this.deps.pool.query<{ pending: number; oldest_s: number | null }>(
          `select count(*)::int as pending, extract(epoch from now() - min(run_at))::int as oldest_s
             from graphile_worker.jobs where locked_at is null and run_at <= now() and attempts < max_attempts`,
        ),
        QUEUE_CHECK_TIMEOUT_MS,
      );
      const row = result.rows[0];
      return { status: "up", pending: row?.pending ?? 0, oldestPendingS: row?.oldest_s ?? 0 };
    } catch {
      return { status: "down" };
    }
  }
}

/** Unhealthy while requests that need the database are refused; degraded while Redis or the queue check fails. */
function overallStatus(database: DatabaseCheck, breaker: BreakerState, redis: RedisCheck, queue: DependencyChecks["queue"]) {
  if (database.status === "down" || breaker !== "closed") return "unhealthy";
  return redis.status === "down" || queue.status === "down" ? "degraded" : "healthy";
}

const toMb = (bytes: number) => Math.round(bytes / 1_048_576);
