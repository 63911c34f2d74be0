import express, { Router } from "express";
import { emailsQuery, templateParams } from "../../../shared/api/emails.ts";
import { presentPage } from "../../core/pagination.ts";
import { validated } from "../../http/validate.ts";
import { EVENT_SIGNATURE_HEADER, EVENT_TIMESTAMP_HEADER } from "../../infra/mailer.ts";
import type { EmailsService } from "./emails.service.ts";
import { presentEmail } from "./emails.presenter.ts";

/** SendGrid posts events in batches of up to a few thousand; each is well under 1 KB. */
const EVENT_BATCH_LIMIT = "5mb";

/** Operators: /ops/emails, /ops/emails/templates, /ops/emails/templates/:name/preview */
export function emailsOpsRoutes(service: EmailsService): Router {
  const router = Router();

  router.get(
    "/emails",
    validated({ query: emailsQuery }, async ({ query }, _req, res) => {
      res.json(presentPage(await service.list(query), presentEmail));
    }),
  );

  router.get(
    "/emails/templates",
    validated({}, (_input, _req, res) => {
      res.json({ templates: service.templateNames() });
    }),
  );

  router.get(
    "/emails/templates/:name/preview",
    validated({ params: templateParams }, async ({ params }, _req, res) => {
      const rendered = service.preview(params.name);
      res.type("html").send(rendered.html);
    }),
  );

  return router;
}

/** SendGrid's Event Webhook: the raw body, for the signature, before any JSON parser or session. */
export function sendgridWebhookRoutes(service: EmailsService): Router {
  const router = Router();
  router.post("/", express.raw({ type: "*/*", limit: EVENT_BATCH_LIMIT }), async (req, res) => {
    await service.receiveEvents({
      body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
      signature: req.get(EVENT_SIGNATURE_HEADER),
      timestamp: req.get(EVENT_TIMESTAMP_HEADER),
    });
    res.json({ received: true });
  });
  return router;
}
