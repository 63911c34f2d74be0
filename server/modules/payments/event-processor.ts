import type { Logger } from "pino";
import type Stripe from "stripe";
import type { Database, Executor } from "../../infra/db/client.ts";
import { stripeRetryAt } from "../../infra/stripe.ts";
import { StripeEventsRepository } from "./stripe-events.repo.ts";
import type { InboxEvent, StripeHandlers } from "./stripe-handlers.ts";

export interface Attempt {
  number: number;
  last: boolean;
}

/**
 * Runs of one event: graphile-worker's backoff (exp(attempt) seconds, at most about 6 hours apart) spreads twelve
 * attempts over about a day before the event is `failed`.
 */
export const STRIPE_EVENT_MAX_ATTEMPTS = 12;

/** Enqueues the event's processing again, at a given time. */
export type Requeue = (tx: Executor, eventId: string, objectId: string, runAt: Date) => Promise<void>;

/**
 * Processes one stored event, in the background worker: re-fetches the object it is about, then in one transaction
 * claims the object's version (an event older than the last one applied is marked processed without applying), applies
 * the state and marks the event processed. A failure is recorded on the event (attempts, last error) and thrown, for
 * the queue to retry with backoff; after the last attempt the event is `failed`.
 */
export class EventProcessor {
  readonly #events = new StripeEventsRepository();

  constructor(
    private readonly db: Database,
    private readonly stripe: Stripe,
    private readonly handlers: StripeHandlers,
    private readonly logger: Logger,
    private readonly requeue: Requeue,
  ) {}

  /** Resolves with the slug of the community the event changed, if it changed one (its cached profile is then stale). */
  async process(eventId: string, attempt: Attempt | undefined): Promise<string | undefined> {
    const event = await this.#events.find(this.db, eventId);
    if (!event) {
      this.logger.warn({ stripeEvent: eventId }, "stripe event not stored: nothing to process");
      return undefined;
    }
    // A job run again after its event was done (its worker killed between the two commits): nothing left to do.
    if (event.status === "processed" || event.status === "ignored") return undefined;
    await this.#events.startRun(this.db, eventId);
    try {
      return await this.#handle(event);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const last = (attempt?.last ?? false) || event.attempts + 1 >= STRIPE_EVENT_MAX_ATTEMPTS;
      const retryAt = last ? undefined : stripeRetryAt(error);
      if (retryAt) {
        // Rate limited: tried again when Stripe says, not at the queue's backoff; the event's attempts still count.
        await this.db.transaction(async (tx) => {
          await this.#events.recordFailure(tx, eventId, message, false);
          await this.requeue(tx, eventId, this.handlers.handling(event)?.objectId ?? event.id, retryAt);
        });
        this.logger.warn({ stripeEvent: eventId, retryAt: retryAt.toISOString() }, "stripe rate limited: event processed later");
        return undefined;
      }
      await this.#events.recordFailure(this.db, eventId, message, last);
      throw error;
    }
  }

  async #handle(event: InboxEvent): Promise<string | undefined> {
    const handling = this.handlers.handling(event);
    if (!handling) {
      await this.#events.finish(this.db, event.id, "ignored");
      return undefined;
    }
    const state = await handling.fetch(this.stripe);
    const { applied, changed } = await this.db.transaction(async (tx) => {
      const newest = await this.#events.claimVersion(tx, handling.objectId, event.created, event.id);
      if (newest) await handling.apply(tx, state);
      await this.#events.finish(tx, event.id, "processed");
      return { applied: newest, changed: newest ? await this.#events.communitySlugOf(tx, handling.objectId) : undefined };
    });
    this.logger.info({ stripeEvent: event.id, type: event.type, objectId: handling.objectId, applied }, "stripe event processed");
    return changed;
  }
}
