import { Router } from "express";
import { subscriptionCheckoutBody, type RedirectDto } from "../../../shared/api/billing.ts";
import { slugParams } from "../../../shared/api/communities.ts";
import { currentUser, signedIn } from "../../http/middleware/auth.ts";
import { validated } from "../../http/validate.ts";
import type { BillingService } from "./billing.service.ts";

export function billingRoutes(billing: BillingService): Router {
  const router = Router();

  router.post(
    "/communities/:slug/subscription/checkout",
    signedIn,
    validated({ params: slugParams, body: subscriptionCheckoutBody }, async ({ params, body }, req, res) => {
      res.json({ url: await billing.checkout(currentUser(req), params.slug, body.planId) } satisfies RedirectDto);
    }),
  );

  router.post(
    "/communities/:slug/subscription/portal",
    signedIn,
    validated({ params: slugParams }, async ({ params }, req, res) => {
      res.json({ url: await billing.portal(currentUser(req), params.slug) } satisfies RedirectDto);
    }),
  );

  return router;
}
