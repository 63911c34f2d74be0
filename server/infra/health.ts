import type { Redis } from "ioredis";
import { poolStats, type DbPool, type PoolStats } from "./db/pool.ts";
import { checkRedis, type RedisCheck } from "./redis.ts";
import { withDeadline } from "./deadline.ts";

/** A probe waits this long for the database before calling it down. */
export const DB_CHECK_TIMEOUT_MS = 2_000;
/** A result is reused this long, so load balancer probes cannot hammer the database or Redis. */
export const HEALTH_CACHE_MS = 1_000;

export type Readiness = "starting" | "ready" | "draining";

export interface HealthReport {
  status: "healthy" | "degraded" | "unhealthy";
  checks: {
    database: { status: "up" | "down"; latencyMs?: number; error?: string };
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
  redis: Redis | undefined;
  version: string;
}

type DependencyChecks = HealthReport["checks"];

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
    const memory = process.memoryUsage();
    return {
      status: database.status === "down" ? "unhealthy" : redis.status === "down" || queue.status === "down" ? "degraded" : "healthy",
      checks: { database, redis, queue },
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
      checks: Promise.all([this.#checkDatabase(), checkRedis(this.deps.redis), this.#checkQueue()]).then(([database, redis, queue]) => {
        entry.settledAt = Date.now();
        return { database, redis, queue };
      }),
    };
    this.#cached = entry;
    return entry.checks;
  }

  async #checkDatabase(): Promise<DependencyChecks["database"]> {
    const started = performance.now();
    try {
      await withDeadline(this.deps.pool.query("select 1"), DB_CHECK_TIMEOUT_MS);
      return { status: "up", latencyMs: round(performance.now() - started) };
    } catch (error) {
      return { status: "down", error: error instanceof Error ? error.message : String(error) };
    }
  }

  /** Jobs waiting to run: a growing number or age means the background worker is down or overwhelmed. */
  async #checkQueue(): Promise<DependencyChecks["queue"]> {
    try {
      const result = await withDeadline(
        this.deps.pool.query<{ pending: number; oldest_s: number | null }>(
          `select count(*)::int as pending, extract(epoch from now() - min(run_at))::int as oldest_s
             from graphile_worker.jobs where locked_at is null and run_at <= now() and attempts < max_attempts`,
        ),
        DB_CHECK_TIMEOUT_MS,
      );
      const row = result.rows[0];
      return { status: "up", pending: row?.pending ?? 0, oldestPendingS: row?.oldest_s ?? 0 };
    } catch {
      return { status: "down" };
    }
  }
}

const toMb = (bytes: number) => Math.round(bytes / 1_048_576);
const round = (ms: number) => Math.round(ms * 10) / 10;
