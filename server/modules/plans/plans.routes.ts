import { Router } from "express";
import { validated } from "../../http/validate.ts";
import { presentPlan } from "./plans.presenter.ts";
import type { PlansService } from "./plans.service.ts";

export function plansRoutes(plans: PlansService): Router {
  const router = Router();

  /** Public: the pricing page reads it before anyone signs in. */
  router.get(
    "/plans",
    validated({}, async (_input, _req, res) => {
      res.json((await plans.list()).map(presentPlan));
    }),
  );

  return router;
}
