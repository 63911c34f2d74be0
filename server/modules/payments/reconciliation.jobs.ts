import { z } from "zod";
import { defineJob } from "../../jobs/job.ts";
import { forgetProfiles, paymentsOf, withStripe } from "./stripe-events.jobs.ts";
import { Reconciler } from "./reconciler.ts";
import { StripeHandlers } from "./stripe-handlers.ts";
import { Sweeper } from "./sweeper.ts";

/**
 * Every 15 minutes, the events Stripe has that the inbox lacks (a delivery lost, an endpoint down longer than Stripe
 * retries, a secret rotated wrongly) are stored and processed as if delivered.
 */
export const reconcileStripeEventsJob = defineJob({
  name: "payments.reconcile-stripe-events",
  payload: z.object({}).passthrough(),
  schedule: "*/15 * * * *",
  runsWith: withStripe,
  async handle(_payload, context) {
    const { client, settings } = paymentsOf(context);
    const found = await new Reconciler(context.db, client, settings, context.emails).reconcile();
    context.logger.info(found, "stripe events reconciled");
  },
});

/** Every night, every subscription and connected account known here is compared with Stripe and repaired (Sweeper). */
export const sweepStripeStateJob = defineJob({
  name: "payments.sweep-stripe-state",
  payload: z.object({}).passthrough(),
  schedule: "40 3 * * *",
  runsWith: withStripe,
  async handle(_payload, context) {
    const { client, settings } = paymentsOf(context);
    const handlers = new StripeHandlers(settings, context.emails);
    const swept = await new Sweeper(context.db, client, handlers, context.logger).sweep();
    await forgetProfiles(context);
    context.logger.info(swept, "stripe state swept");
  },
});
