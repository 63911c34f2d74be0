import { Router } from "express";
import type { HealthMonitor } from "../../infra/health.ts";
import { hasOpsToken } from "../../http/middleware/ops-token.ts";
import { presentPublicHealth } from "./health.presenter.ts";

/** Where the application mounts these routes. */
export const HEALTH_MOUNT_PATH = "/api/health";
const LIVE_ROUTE = "/live";
const READY_ROUTE = "/ready";
/** The probes' full paths, as load balancers, orchestrators and the deployment files (deploy/) call them. */
export const PROBE_PATHS = { live: `${HEALTH_MOUNT_PATH}${LIVE_ROUTE}`, ready: `${HEALTH_MOUNT_PATH}${READY_ROUTE}` } as const;

/**
 * Probes for operators and load balancers. `live` never touches a dependency
 * (restart me only if I cannot answer at all); `ready` says whether to send
 * traffic; the full report is cached per worker (HealthMonitor) so probes stay
 * cheap, and shows its details only to callers with the ops token.
 */
export function healthRoutes(health: HealthMonitor, opsToken: string | undefined): Router {
  const router = Router();

  router.get(LIVE_ROUTE, (_req, res) => {
    res.json({ status: "alive", pid: process.pid });
  });

  router.get(READY_ROUTE, async (_req, res) => {
    if (health.readiness !== "ready") {
      res.status(503).json({ status: health.readiness });
      return;
    }
    const report = await health.report();
    const ready = report.status !== "unhealthy";
    res.status(ready ? 200 : 503).json({ status: ready ? "ready" : "no_database" });
  });

  router.get("/", async (req, res) => {
    const report = await health.report();
    res.status(report.status === "unhealthy" ? 503 : 200).json(hasOpsToken(req, opsToken) ? report : presentPublicHealth(report));
  });

  return router;
}
