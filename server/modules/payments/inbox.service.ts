import type Stripe from "stripe";
import { z } from "zod";
import type { StripeEventStatusName, WebhookStats } from "../../../shared/api/payments.ts";
import type { Page } from "../../../shared/api/pagination.ts";
import type { StripeEventRow } from "../../../shared/schema/index.ts";
import { AppError } from "../../core/app-error.ts";
import { decodeCursor, toPage } from "../../core/pagination.ts";
import { timestampTextIdCursor } from "../../infra/db/keyset.ts";
import type { Database } from "../../infra/db/client.ts";
import { StripeEventsRepository } from "./stripe-events.repo.ts";
import { enqueueProcessing } from "./stripe-events.jobs.ts";
import type { StripeHandlers } from "./stripe-handlers.ts";

/** Stripe signs each delivery with a timestamp; an older one is refused as a replayed delivery. */
const SIGNATURE_TOLERANCE_S = 300;

export type WebhookSource = "platform" | "connect";

const stripeId = z.string().regex(/^\w{1,255}$/, "not a Stripe id");
/** What the inbox needs of an event; every other field is kept as it came, in the payload. */
export const storableEvent = z.looseObject({
  id: stripeId,
  type: z.string().regex(/^[\w.]{1,255}$/, "not a Stripe event type"),
  created: z.number().int().nonnegative(),
  account: stripeId.nullish(),
  data: z.looseObject({ object: z.looseObject({ id: stripeId.optional() }) }),
});

/** JSON's escape of NUL, which Postgres refuses in jsonb: only a signed body can carry one, still a 400, not a 500. */
const JSON_NUL = "\\u0000";

export type StorableEvent = z.infer<typeof storableEvent>;

export interface PaymentsSetup {
  stripe: Stripe;
  secrets: Record<WebhookSource, string | undefined>;
  handlers: StripeHandlers;
}

const eventsCursor = timestampTextIdCursor("stripe-events");

/**
 * The durable inbox of Stripe events. A delivery is verified, stored once (keyed by the event's id) and its
 * processing job enqueued in the same transaction; nothing else happens in the request, so a slow or failing handler
 * never makes Stripe retry a delivery that was stored.
 */
export class InboxService {
  readonly #events = new StripeEventsRepository();

  constructor(
    private readonly db: Database,
    private readonly payments: PaymentsSetup | undefined,
  ) {}

  /** Verifies a delivery's signature on its raw body and stores it: true when it was new. */
  async receive(source: WebhookSource, rawBody: Buffer, signature: string | undefined): Promise<boolean> {
    const secret = this.payments?.secrets[source];
    // 503: Stripe retries later, once the secret is configured.
    if (!this.payments || !secret) throw new AppError("unavailable", `the ${source} Stripe webhook is not configured`);
    if (!signature) throw new AppError("validation_failed", "the Stripe-Signature header is missing");
    let verified: unknown;
    try {
      verified = this.payments.stripe.webhooks.constructEvent(rawBody, signature, secret, SIGNATURE_TOLERANCE_S);
    } catch {
      throw new AppError("validation_failed", "the Stripe signature does not match this body (or is too old)");
    }
    const parsed = storableEvent.safeParse(verified);
    if (!parsed.success || rawBody.includes(JSON_NUL)) throw new AppError("validation_failed", "the body is not a Stripe event");
    return this.store(parsed.data);
  }

  /**
   * Stores an event once and, when it is new and the product acts on it, enqueues its processing in the same
   * transaction, in the queue of the object it is about (one event of an object at a time). The endpoints and
   * reconciliation both come through here.
   */
  async store(event: StorableEvent): Promise<boolean> {
    if (!this.payments) throw new AppError("unavailable", "payments are not configured");
    const stored = { id: event.id, type: event.type, account: event.account ?? null, created: event.created, payload: event };
    const handling = this.payments.handlers.handling(stored);
    return this.db.transaction(async (tx) => {
      const inserted = await this.#events.insert(tx, {
        ...stored,
        objectId: event.data.object.id ?? null,
        status: handling ? "pending" : "ignored",
      });
      if (inserted && handling) await enqueueProcessing(tx, event.id, handling.objectId);
      return inserted;
    });
  }

  async list(query: { status?: StripeEventStatusName; limit: number; cursor?: string }): Promise<Page<StripeEventRow>> {
    const after = decodeCursor(eventsCursor, query.cursor);
    const rows = await this.#events.list(this.db, { status: query.status, after, limit: query.limit + 1 });
    return toPage(rows, query.limit, eventsCursor, (row) => [row.cursorAt, row.id] as const);
  }

  async stats(): Promise<WebhookStats> {
    const counts = await this.#events.countByStatus(this.db);
    return { counts: { pending: 0, processing: 0, processed: 0, ignored: 0, failed: 0, ...counts } };
  }

  /**
   * Queues the event again, whatever its status: processing re-fetches the object and applies its state again, which
   * changes nothing when it was applied already.
   */
  async replay(eventId: string): Promise<StripeEventRow> {
    return this.db.transaction(async (tx) => {
      const row = await this.#events.markPending(tx, eventId);
      if (!row) throw AppError.notFound("Stripe event");
      if (!this.payments) throw new AppError("unavailable", "payments are not configured");
      const handling = this.payments.handlers.handling(row);
      await enqueueProcessing(tx, row.id, handling?.objectId ?? row.objectId ?? row.id);
      return row;
    });
  }
}
