import { z } from "zod";
import { defineJob, type JobContext } from "../../jobs/job.ts";
import type { Executor } from "../../infra/db/client.ts";
import { enqueueJob } from "../../infra/queue.ts";
import { EventProcessor, STRIPE_EVENT_MAX_ATTEMPTS } from "./event-processor.ts";
import { StripeHandlers } from "./stripe-handlers.ts";

export { STRIPE_EVENT_MAX_ATTEMPTS };

/** Payments jobs run only in a worker that has Stripe configured. */
export const withStripe = (context: JobContext) => context.stripe !== undefined;

export function paymentsOf(context: JobContext): NonNullable<JobContext["stripe"]> {
  if (!context.stripe) throw new Error("payments are off (no STRIPE_SECRET_KEY)");
  return context.stripe;
}

/**
 * The nightly repair may have moved communities to other plans, which their public profiles show: every cached profile
 * is dropped once that has committed (in Redis a scan of the keys, once a night).
 */
export async function forgetProfiles(context: JobContext): Promise<void> {
  await context.cache.clear("community");
}

/** Processes one stored Stripe event (see EventProcessor); enqueued with the event, in the queue of its object. */
export const processStripeEventJob = defineJob({
  name: "payments.process-stripe-event",
  payload: z.object({ eventId: z.string().min(1) }),
  runsWith: withStripe,
  async handle({ eventId }, context) {
    const { client, settings } = paymentsOf(context);
    const handlers = new StripeHandlers(settings, context.emails);
    const processor = new EventProcessor(context.db, client, handlers, context.logger, enqueueProcessing);
    // The one profile the event may have changed, once that has committed: a processed event costs one key, not a scan.
    const changed = await processor.process(eventId, context.attempt);
    if (changed) await context.cache.delete("community", changed);
  },
});

/**
 * Enqueues the processing of an event in the queue of its object (one event of an object at a time), now or at `runAt`
 * (Stripe asked to be called again later), keyed by the event: a second enqueue replaces a waiting job.
 */
export async function enqueueProcessing(tx: Executor, eventId: string, objectId: string, runAt?: Date): Promise<void> {
  await enqueueJob(
    tx,
    processStripeEventJob,
    { eventId },
    { queueName: `stripe:${objectId}`, jobKey: `stripe-event:${eventId}`, maxAttempts: STRIPE_EVENT_MAX_ATTEMPTS, runAt },
  );
}
