import type { Container } from "../../container.ts";
import { InboxService } from "./inbox.service.ts";
import { webhookOpsRoutes, webhookRoutes } from "./payments.routes.ts";
import { StripeHandlers } from "./stripe-handlers.ts";
import { emailOutbox } from "../emails/outbox.ts";

/** Stripe's webhooks (/api/webhooks/stripe, /api/webhooks/stripe/connect) and the operators' view of their inbox. */
export function paymentsModule({ db, stripe, config }: Container) {
  const payments =
    stripe && config.stripe
      ? {
          stripe,
          secrets: { platform: config.stripe.webhookSecret, connect: config.stripe.connectWebhookSecret },
          handlers: new StripeHandlers(config.stripe, emailOutbox({ config })),
        }
      : undefined;
  const inbox = new InboxService(db, payments);
  return { webhooks: webhookRoutes(inbox), ops: webhookOpsRoutes(inbox) };
}
