import type Stripe from "stripe";
import type { EmailOutbox } from "../emails/outbox.ts";
import type { Database } from "../../infra/db/client.ts";
import { DuesRepository } from "../dues/dues.repo.ts";
import { InboxService, storableEvent } from "./inbox.service.ts";
import { StripeEventsRepository } from "./stripe-events.repo.ts";
import { StripeHandlers, type HandlerSettings } from "./stripe-handlers.ts";

/**
 * How far before its checkpoint a reconciliation looks again: an event becomes listable a little after its `created`,
 * so the newest one seen is not a hard line. Stored events are skipped by their id.
 */
const OVERLAP_S = 15 * 60;
/** A first reconciliation, without a checkpoint, looks back this far (Stripe lists 30 days of events). */
const FIRST_LOOKBACK_S = 3 * 86_400;
const PAGE_SIZE = 100;

export interface ReconciliationResult {
  sources: number;
  listed: number;
  stored: number;
}

/**
 * Pages through Stripe's events since each source's checkpoint (the platform's own, and each connected account known
 * here, listed with `Stripe-Account`), stores the missing ones through the inbox (insert and enqueue, as a delivery
 * does) and moves the checkpoint forward.
 */
export class Reconciler {
  readonly #events = new StripeEventsRepository();
  readonly #accounts = new DuesRepository();
  readonly #inbox: InboxService;

  constructor(
    private readonly db: Database,
    private readonly stripe: Stripe,
    settings: HandlerSettings,
    emails: EmailOutbox,
  ) {
    // Only storing: the signing secrets are not needed for events Stripe itself lists.
    this.#inbox = new InboxService(db, {
      stripe,
      secrets: { platform: undefined, connect: undefined },
      handlers: new StripeHandlers(settings, emails),
    });
  }

  async reconcile(now = Math.floor(Date.now() / 1000)): Promise<ReconciliationResult> {
    const accounts = await this.#accounts.accountIds(this.db);
    const result: ReconciliationResult = { sources: accounts.length + 1, listed: 0, stored: 0 };
    for (const account of [undefined, ...accounts]) {
      const { listed, stored } = await this.#reconcileSource(account, now);
      result.listed += listed;
      result.stored += stored;
    }
    return result;
  }

  async #reconcileSource(account: string | undefined, now: number): Promise<{ listed: number; stored: number }> {
    const checkpointName = account ? `account:${account}` : "platform";
    const checkpoint = await this.#events.checkpoint(this.db, checkpointName);
    const since = checkpoint === undefined ? now - FIRST_LOOKBACK_S : checkpoint - OVERLAP_S;
    let newest = checkpoint ?? since;
    let listed = 0;
    let stored = 0;
    const pages = this.stripe.events.list({ created: { gte: since }, limit: PAGE_SIZE }, account ? { stripeAccount: account } : {});
    for await (const event of pages) {
      listed += 1;
      newest = Math.max(newest, event.created);
      // A Connect event listed with Stripe-Account may not name its account: it is the one listed for.
      const storable = storableEvent.parse({ ...event, account: event.account ?? account ?? null });
      if (await this.#inbox.store(storable)) stored += 1;
    }
    await this.#events.moveCheckpoint(this.db, checkpointName, newest);
    return { listed, stored };
  }
}
