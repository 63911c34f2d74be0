import type { Router } from "express";
import type { Container } from "../../container.ts";
import { metricsRoutes, statusRoutes } from "./metrics.routes.ts";

export interface MetricsModule {
  /** Mounted at /api/metrics behind the operators' token, beside the health probes. */
  routes: Router;
  /** /status under the operators' router. */
  opsRoutes: Router;
}

export function metricsModule({ config, instanceMetrics }: Container): MetricsModule {
  return { routes: metricsRoutes(instanceMetrics), opsRoutes: statusRoutes(instanceMetrics, config.plan) };
}
