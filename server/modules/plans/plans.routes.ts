import { Router } from "express";
import { validated } from "../../http/validate.ts";
import { cachePublicly } from "../../http/cache-control.ts";
import { presentPlan } from "./plans.presenter.ts";
import type { PlansService } from "./plans.service.ts";

export function plansRoutes(plans: PlansService): Router {
  const router = Router();

  /** Public: the pricing page reads it before anyone signs in. */
  router.get(
    "/plans",
    validated({}, async (_input, _req, res) => {
      const list = (await plans.list()).map(presentPlan);
      // Prices and limits change by a migration, at a release.
      cachePublicly(res, { maxAgeS: 3_600, staleS: 86_400 });
      res.json(list);
    }),
  );

  return router;
}
