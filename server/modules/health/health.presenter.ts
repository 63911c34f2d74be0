import type { HealthReport } from "../../infra/health.ts";

/** What anyone may see: states only. Error texts (which name hosts and ports), the pool, memory and version need the ops token. */
export interface PublicHealth {
  status: HealthReport["status"];
  checks: {
    database: Pick<HealthReport["checks"]["database"], "status" | "breaker">;
    redis: Pick<HealthReport["checks"]["redis"], "status">;
    queue: Pick<HealthReport["checks"]["queue"], "status">;
  };
  /** Which worker answered, as `/api/health/live` says too: load balancer and cluster checks tell workers apart by it. */
  pid: number;
}

export function presentPublicHealth(report: HealthReport): PublicHealth {
  const { database, redis, queue } = report.checks;
  return {
    status: report.status,
    checks: {
      database: { status: database.status, breaker: database.breaker },
      redis: { status: redis.status },
      queue: { status: queue.status },
    },
    pid: report.pid,
  };
}
