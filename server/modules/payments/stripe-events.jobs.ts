import { z } from "zod";
import { defineJob, type JobContext } from "../../jobs/job.ts";
import { EventProcessor } from "./event-processor.ts";
import { StripeHandlers } from "./stripe-handlers.ts";

/**
 * Runs of one event: graphile-worker's backoff (exp(attempt) seconds, at most about 6 hours apart) spreads twelve
 * attempts over about a day before the event is `failed`.
 */
export const STRIPE_EVENT_MAX_ATTEMPTS = 12;

/** Payments jobs run only in a worker that has Stripe configured. */
export const withStripe = (context: JobContext) => context.stripe !== undefined;

export function paymentsOf(context: JobContext): NonNullable<JobContext["stripe"]> {
  if (!context.stripe) throw new Error("payments are off (no STRIPE_SECRET_KEY)");
  return context.stripe;
}

/** Processes one stored Stripe event (see EventProcessor); enqueued with the event, in the queue of its object. */
export const processStripeEventJob = defineJob({
  name: "payments.process-stripe-event",
  payload: z.object({ eventId: z.string().min(1) }),
  runsWith: withStripe,
  async handle({ eventId }, context) {
    const { client, settings } = paymentsOf(context);
    const processor = new EventProcessor(context.db, client, new StripeHandlers(settings, context.emails), context.logger);
    await processor.process(eventId, context.attempt);
  },
});
