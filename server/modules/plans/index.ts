import type { Router } from "express";
import type { Database } from "../../infra/db/client.ts";
import type { Cache } from "../../infra/cache.ts";
import { PlansRepository } from "./plans.repo.ts";
import { plansRoutes } from "./plans.routes.ts";
import { PlansService } from "./plans.service.ts";

export type { PlansService } from "./plans.service.ts";

export interface PlansModule {
  routes: Router;
  /** The plan limits, for the modules that enforce them (members, events). */
  service: PlansService;
}

/** Plans and their limits: /plans */
export function plansModule(db: Database, cache: Cache): PlansModule {
  const service = new PlansService(db, new PlansRepository(), cache);
  return { routes: plansRoutes(service), service };
}
