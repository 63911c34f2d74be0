import { Router } from "express";
import { Registry } from "prom-client";
import type { CapacityPlan } from "../../config/capacity.ts";
import type { MetricsSource } from "../../infra/instance-metrics.ts";

/** `GET /api/metrics`: the instance's Prometheus text. */
export function metricsRoutes(source: MetricsSource): Router {
  const router = Router();
  router.get("/", async (_req, res) => {
    const text = await source.text();
    res.type(Registry.PROMETHEUS_CONTENT_TYPE).send(text);
  });
  return router;
}

/** `GET /api/ops/status`: the alert signals over the last five minutes, the workers, the uptime and the capacity plan. */
export function statusRoutes(source: MetricsSource, plan: CapacityPlan): Router {
  const router = Router();
  router.get("/status", async (_req, res) => {
    res.json({ ...(await source.status()), plan });
  });
  return router;
}
