import type Stripe from "stripe";
import { z } from "zod";
import type { Executor } from "../../infra/db/client.ts";
import type { EmailOutbox } from "../emails/outbox.ts";
// Repositories, not the modules' index files: the background worker loads no routes.
import { BillingRepository } from "../billing/billing.repo.ts";
import { DuesRepository } from "../dues/dues.repo.ts";
import { DuesPayments, type RecordedPayment } from "../dues/dues-payments.ts";

/** An event as stored in the inbox: what handlers read of it. */
export interface InboxEvent {
  id: string;
  type: string;
  account: string | null;
  created: number;
  payload: unknown;
}

/**
 * What the product does with an event: the event is a trigger, never a source of state. The object it is about is
 * fetched again from Stripe (its state now, newer than any event's snapshot), then applied to the local rows in one
 * transaction. `apply` is idempotent: applying the same state twice changes nothing the second time.
 */
export interface EventHandling {
  /** The Stripe object whose state the event changes: its processing queue and its version key. */
  objectId: string;
  fetch(stripe: Stripe): Promise<unknown>;
  apply(tx: Executor, state: unknown): Promise<void>;
}

export interface HandlerSettings {
  /** Stripe price id of each paid plan (`config.stripe.prices`). */
  prices: Partial<Record<string, string>>;
}

/** Where a community's pages are, for the links of the emails that follow events. */
const communityPage = (emails: EmailOutbox, slug: string, page: string) =>
  emails.linkTo(`/communities/${encodeURIComponent(slug)}/${page}`);

const eventObject = z.object({ data: z.object({ object: z.record(z.string(), z.unknown()) }) });
const objectOf = (event: InboxEvent): Record<string, unknown> => eventObject.parse(event.payload).data.object;
const stringField = (object: Record<string, unknown>, field: string) => (typeof object[field] === "string" ? object[field] : undefined);

const communityId = z.uuid();
/** The community a Stripe object names, if it names one in a shape that can be ours. */
const namedCommunity = (value: unknown) => (communityId.safeParse(value).success ? (value as string) : undefined);

/** What a failed invoice's event tells the owners: its amount, and Stripe's reason when it gives one. */
const failedInvoice = z.object({
  id: z.string(),
  amount_due: z.number().int().min(0),
  currency: z.string().length(3),
  last_finalization_error: z.object({ message: z.string().optional() }).nullish(),
});

/** Where an invoice names its subscription, in the API version the SDK pins. */
const invoiceParent = z.object({
  parent: z.object({ subscription_details: z.object({ subscription: z.string() }).nullable() }).nullable(),
});

/** Statuses whose subscription pays for its plan now. */
const PAYING = new Set(["active", "trialing"]);
/** Statuses of a subscription that is over: the community is back on the free plan. */
const ENDED = new Set(["canceled", "unpaid", "incomplete_expired"]);
const FREE_PLAN = "free";

/**
 * Subscriptions (Stripe Billing): the community's `subscriptions` row and its `plan` follow the subscription. The
 * subscription is found by its id, else by its customer, else through the community the checkout session or the
 * subscription's metadata names: an event that comes before the checkout's is applied all the same.
 */
class SubscriptionHandler {
  readonly #billing = new BillingRepository();

  constructor(
    readonly settings: HandlerSettings,
    readonly emails: EmailOutbox,
  ) {}

  /** Subscription events, a completed checkout of mode subscription, and a failed payment of a subscription's invoice. */
  subscriptionOf(event: InboxEvent): string | undefined {
    const object = objectOf(event);
    if (event.type.startsWith("customer.subscription.")) return stringField(object, "id");
    // Mode payment is a member's dues (DuesHandler).
    if (event.type === "checkout.session.completed")
      return object.mode === "subscription" ? stringField(object, "subscription") : undefined;
    if (event.type === "invoice.payment_failed") {
      const parent = invoiceParent.safeParse(object);
      return parent.success ? (parent.data.parent?.subscription_details?.subscription ?? undefined) : undefined;
    }
    return undefined;
  }

  handling(event: InboxEvent): EventHandling | undefined {
    const subscriptionId = this.subscriptionOf(event);
    if (!subscriptionId) return undefined;
    const object = objectOf(event);
    const checkoutCommunity = event.type === "checkout.session.completed" ? namedCommunity(object.client_reference_id) : undefined;
    return {
      objectId: subscriptionId,
      fetch: (stripe) => stripe.subscriptions.retrieve(subscriptionId),
      apply: async (tx, state) => {
        const community = await this.apply(tx, state as Stripe.Subscription, checkoutCommunity);
        if (event.type === "invoice.payment_failed") await this.tellOwners(tx, community, failedInvoice.parse(object));
      },
    };
  }

  /**
   * Dunning: each owner of the community learns that the renewal failed (once per invoice, whatever the deliveries),
   * with the link to the billing page, where the portal changes the card. Stripe retries the payment meanwhile.
   */
  async tellOwners(tx: Executor, communityId: string, invoice: z.infer<typeof failedInvoice>): Promise<void> {
    for (const owner of await this.#billing.owners(tx, communityId)) {
      await this.emails.queue(tx, {
        to: owner.email,
        template: "payment_failed",
        dedupeKey: `${invoice.id}:${owner.userId}`,
        payload: {
          name: owner.name,
          communityName: owner.communityName,
          amountMinor: invoice.amount_due,
          currency: invoice.currency,
          link: communityPage(this.emails, owner.slug, "billing"),
          ...(invoice.last_finalization_error?.message ? { reason: invoice.last_finalization_error.message } : {}),
        },
      });
    }
  }

  /** Returns the community the subscription belongs to. */
  async apply(tx: Executor, subscription: Stripe.Subscription, checkoutCommunity: string | undefined): Promise<string> {
    const customerId = typeof subscription.customer === "string" ? subscription.customer : subscription.customer.id;
    const linked = await this.#billing.lockSubscriptionOf(tx, subscription.id, customerId);
    const community = linked?.communityId ?? checkoutCommunity ?? namedCommunity(subscription.metadata?.community_id);
    // Kept for a later attempt (the checkout that links it may not be here yet), never dropped.
    if (!community || !(await this.#billing.communityExists(tx, community))) {
      throw new Error(`subscription ${subscription.id} is linked to no community here yet`);
    }
    const current = linked ?? (await this.#billing.lockCommunitySubscription(tx, community));
    // A late event of an earlier subscription that is over does not replace the community's newer one.
    const replacesAnother = current?.stripeSubscriptionId && current.stripeSubscriptionId !== subscription.id;
    if (replacesAnother && !PAYING.has(subscription.status) && subscription.status !== "past_due") return community;
    const planId = this.planOf(subscription);
    await this.#billing.saveSubscription(tx, community, {
      stripeCustomerId: customerId,
      stripeSubscriptionId: subscription.id,
      planId,
      status: subscription.status,
      currentPeriodEnd: periodEndOf(subscription),
      cancelAtPeriodEnd: subscription.cancel_at_period_end,
    });
    // Past due (Stripe still retrying) keeps the plan; an incomplete first payment changes nothing yet.
    if (PAYING.has(subscription.status)) await this.#billing.setCommunityPlan(tx, community, planId);
    else if (ENDED.has(subscription.status)) await this.#billing.setCommunityPlan(tx, community, FREE_PLAN);
    return community;
  }

  /** The plan the subscription's price pays for; a price the configuration does not know is an error to see, not a guess. */
  planOf(subscription: Stripe.Subscription): string {
    const priceId = subscription.items.data[0]?.price.id;
    const plan = Object.entries(this.settings.prices).find(([, price]) => price === priceId)?.[0];
    if (!plan) throw new Error(`subscription ${subscription.id}: price ${String(priceId)} is none of the configured plans' prices`);
    return plan;
  }
}

/** The end of the period paid for: on the items since the API version the SDK pins (the latest of them). */
function periodEndOf(subscription: Stripe.Subscription): Date | null {
  const ends = subscription.items.data.map((item) => item.current_period_end);
  return ends.length > 0 ? new Date(Math.max(...ends) * 1000) : null;
}

/**
 * Connected accounts (Connect Express): charges and payouts enabled, details submitted and what Stripe still needs. An
 * account not known here yet is linked through the community its metadata names.
 */
class AccountHandler {
  readonly #dues = new DuesRepository();
  readonly #billing = new BillingRepository();

  handling(event: InboxEvent): EventHandling | undefined {
    const accountId = stringField(objectOf(event), "id");
    if (event.type !== "account.updated" || !accountId) return undefined;
    const stripeAccount = event.account ?? accountId;
    return {
      objectId: accountId,
      fetch: (stripe) => stripe.accounts.retrieve(accountId, {}, { stripeAccount }),
      apply: (tx, state) => this.apply(tx, state as Stripe.Account),
    };
  }

  async apply(tx: Executor, account: Stripe.Account): Promise<void> {
    const linked = await this.#dues.lockAccount(tx, account.id);
    const community = linked?.communityId ?? namedCommunity(account.metadata?.community_id);
    if (!community || !(await this.#billing.communityExists(tx, community))) {
      throw new Error(`connected account ${account.id} is linked to no community here yet`);
    }
    await this.#dues.saveAccount(tx, community, {
      stripeAccountId: account.id,
      chargesEnabled: account.charges_enabled ?? false,
      payoutsEnabled: account.payouts_enabled ?? false,
      detailsSubmitted: account.details_submitted ?? false,
      requirementsDue: account.requirements?.currently_due ?? [],
    });
  }
}

/**
 * A member's dues paid through Checkout (mode payment, as destination charges created on the platform, so the event is
 * the platform's): a payment row and the member's dues extended by the period sold, once per session.
 */
class DuesHandler {
  readonly #payments = new DuesPayments();
  readonly #dues = new DuesRepository();

  constructor(readonly emails: EmailOutbox) {}

  handling(event: InboxEvent): EventHandling | undefined {
    const object = objectOf(event);
    const sessionId = stringField(object, "id");
    if (event.type !== "checkout.session.completed" || object.mode !== "payment" || !sessionId) return undefined;
    return {
      objectId: sessionId,
      fetch: (stripe) => stripe.checkout.sessions.retrieve(sessionId),
      apply: async (tx, state) => {
        const recorded = await this.#payments.record(tx, state as Stripe.Checkout.Session);
        if (recorded) await this.sendReceipt(tx, recorded);
      },
    };
  }

  /** The receipt, once per payment; a payer who has left the community since gets none (no membership, no date). */
  async sendReceipt(tx: Executor, { payment, paidUntil }: RecordedPayment): Promise<void> {
    const payer = payment.userId ? await this.#dues.recipient(tx, payment.communityId, payment.userId) : undefined;
    if (!payer || !paidUntil) return;
    await this.emails.queue(tx, {
      to: payer.email,
      template: "dues_receipt",
      dedupeKey: payment.id,
      payload: {
        name: payer.name,
        communityName: payer.communityName,
        amountMinor: payment.amountCents,
        currency: payment.currency,
        paidUntil: paidUntil.toISOString(),
        link: communityPage(this.emails, payer.slug, "dues"),
      },
    });
  }
}

/** The event types the product acts on; any other is stored as `ignored`. */
export const HANDLED_EVENT_TYPES = [
  "checkout.session.completed",
  "customer.subscription.created",
  "customer.subscription.updated",
  "customer.subscription.deleted",
  "invoice.payment_failed",
  "account.updated",
] as const;

/** Which handler acts on an event, and on which object; undefined when the product has nothing to do with it. */
export class StripeHandlers {
  readonly #subscriptions: SubscriptionHandler;
  readonly #accounts = new AccountHandler();
  readonly #dues: DuesHandler;

  constructor(settings: HandlerSettings, emails: EmailOutbox) {
    this.#subscriptions = new SubscriptionHandler(settings, emails);
    this.#dues = new DuesHandler(emails);
  }

  handling(event: InboxEvent): EventHandling | undefined {
    if (!(HANDLED_EVENT_TYPES as readonly string[]).includes(event.type)) return undefined;
    return this.#subscriptions.handling(event) ?? this.#dues.handling(event) ?? this.#accounts.handling(event);
  }

  /** A subscription's state as Stripe has it now, applied as its events would (the nightly sweep). */
  async applySubscription(tx: Executor, subscription: Stripe.Subscription): Promise<void> {
    await this.#subscriptions.apply(tx, subscription, undefined);
  }

  /** A connected account's state as Stripe has it now, applied as its events would (the nightly sweep). */
  async applyAccount(tx: Executor, account: Stripe.Account): Promise<void> {
    await this.#accounts.apply(tx, account);
  }
}
