import { Router } from "express";
import type { RedirectDto } from "../../../shared/api/billing.ts";
import { slugParams } from "../../../shared/api/communities.ts";
import { duesSettingsBody } from "../../../shared/api/dues.ts";
import { pageQuery } from "../../../shared/api/pagination.ts";
import { presentPage } from "../../core/pagination.ts";
import { currentUser, signedIn } from "../../http/middleware/auth.ts";
import { validated } from "../../http/validate.ts";
import { presentDues, presentPayment, presentPayouts } from "./dues.presenter.ts";
import type { DuesService } from "./dues.service.ts";

/** Where Stripe sends the owner's browser when an onboarding link has expired: it makes a new one. */
export const onboardingRefreshPath = (slug: string) => `/api/communities/${encodeURIComponent(slug)}/payouts/onboarding/refresh`;

export function duesRoutes(dues: DuesService): Router {
  const router = Router();

  router.post(
    "/communities/:slug/payouts/onboarding",
    signedIn,
    validated({ params: slugParams }, async ({ params }, req, res) => {
      res.json({ url: await dues.onboardingLink(currentUser(req), params.slug) } satisfies RedirectDto);
    }),
  );

  router.get(
    "/communities/:slug/payouts/onboarding/refresh",
    signedIn,
    validated({ params: slugParams }, async ({ params }, req, res) => {
      res.redirect(303, await dues.onboardingLink(currentUser(req), params.slug));
    }),
  );

  router.get(
    "/communities/:slug/payouts",
    signedIn,
    validated({ params: slugParams }, async ({ params }, req, res) => {
      res.json(presentPayouts(await dues.payouts(currentUser(req), params.slug)));
    }),
  );

  router.get(
    "/communities/:slug/dues",
    signedIn,
    validated({ params: slugParams }, async ({ params }, req, res) => {
      res.json(presentDues(await dues.dues(currentUser(req), params.slug)));
    }),
  );

  router.put(
    "/communities/:slug/dues",
    signedIn,
    validated({ params: slugParams, body: duesSettingsBody }, async ({ params, body }, req, res) => {
      res.json(presentDues(await dues.setDues(currentUser(req), params.slug, body)));
    }),
  );

  router.post(
    "/communities/:slug/dues/checkout",
    signedIn,
    validated({ params: slugParams }, async ({ params }, req, res) => {
      res.json({ url: await dues.checkout(currentUser(req), params.slug) } satisfies RedirectDto);
    }),
  );

  router.get(
    "/communities/:slug/dues/payments",
    signedIn,
    validated({ params: slugParams, query: pageQuery }, async ({ params, query }, req, res) => {
      res.json(presentPage(await dues.myPayments(currentUser(req), params.slug, query), presentPayment));
    }),
  );

  router.get(
    "/communities/:slug/payments",
    signedIn,
    validated({ params: slugParams, query: pageQuery }, async ({ params, query }, req, res) => {
      res.json(presentPage(await dues.payments(currentUser(req), params.slug, query), presentPayment));
    }),
  );

  return router;
}
