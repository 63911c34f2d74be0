import express, { Router, type Request } from "express";
import type { Page } from "../../../shared/api/pagination.ts";
import { webhookEventParams, webhookEventsQuery, type WebhookEvent, type WebhookStats } from "../../../shared/api/payments.ts";
import { presentPage } from "../../core/pagination.ts";
import { validated } from "../../http/validate.ts";
import type { InboxService, WebhookSource } from "./inbox.service.ts";
import { presentWebhookEvent } from "./payments.presenter.ts";

/** Stripe's events are a few kB; its largest stay well under this. */
const WEBHOOK_BODY_LIMIT = "1mb";

/** The exact bytes Stripe signed, whatever the Content-Type says: the signature is checked on them, not on parsed JSON. */
const rawBody = express.raw({ type: "*/*", limit: WEBHOOK_BODY_LIMIT });

const bodyOf = (req: Request): Buffer => (Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));

/** Stripe's deliveries: /webhooks/stripe (the platform's events) and /webhooks/stripe/connect (connected accounts'). */
export function webhookRoutes(inbox: InboxService): Router {
  const router = Router();
  const endpoint = (source: WebhookSource) =>
    validated({}, async (_input, req, res) => {
      await inbox.receive(source, bodyOf(req), req.get("stripe-signature"));
      res.json({ received: true });
    });
  router.post("/stripe", rawBody, endpoint("platform"));
  router.post("/stripe/connect", rawBody, endpoint("connect"));
  return router;
}

/** Operators' view of the inbox: /webhooks, /webhooks/stats, /webhooks/:id/replay (under /api/ops). */
export function webhookOpsRoutes(inbox: InboxService): Router {
  const router = Router();

  router.get(
    "/webhooks",
    validated({ query: webhookEventsQuery }, async ({ query }, _req, res) => {
      res.json(presentPage(await inbox.list(query), presentWebhookEvent) satisfies Page<WebhookEvent>);
    }),
  );

  router.get(
    "/webhooks/stats",
    validated({}, async (_input, _req, res) => {
      res.json((await inbox.stats()) satisfies WebhookStats);
    }),
  );

  router.post(
    "/webhooks/:id/replay",
    validated({ params: webhookEventParams }, async ({ params }, _req, res) => {
      res.status(202).json(presentWebhookEvent(await inbox.replay(params.id)));
    }),
  );

  return router;
}
