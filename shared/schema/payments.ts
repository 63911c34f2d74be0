import { bigint, boolean, index, integer, jsonb, pgEnum, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { generatedId, ownedBy } from "./columns.ts";
import { communities } from "./communities.ts";
import { plans } from "./plans.ts";
import { users } from "./users.ts";

/** A community's SaaS subscription (Stripe Billing), as the last applied Stripe state left it. One row per community. */
export const subscriptions = pgTable(
  "subscriptions",
  {
    communityId: ownedBy("community_id", () => communities.id).primaryKey(),
    stripeCustomerId: text("stripe_customer_id"),
    stripeSubscriptionId: text("stripe_subscription_id"),
    /** The plan the subscription pays for; the community's own `plan` follows it while the subscription is active. */
    planId: text("plan_id").references(() => plans.id),
    /** Stripe's subscription status (`active`, `past_due`, `canceled`…), null before any subscription. */
    status: text("status"),
    currentPeriodEnd: timestamp("current_period_end", { withTimezone: true }),
    cancelAtPeriodEnd: boolean("cancel_at_period_end").notNull().default(false),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex("subscriptions_customer_key").on(table.stripeCustomerId),
    uniqueIndex("subscriptions_subscription_key").on(table.stripeSubscriptionId),
  ],
);

/** A community's Stripe Connect Express account, where its members' dues are paid. One row per community. */
export const connectedAccounts = pgTable(
  "connected_accounts",
  {
    communityId: ownedBy("community_id", () => communities.id).primaryKey(),
    stripeAccountId: text("stripe_account_id").notNull(),
    chargesEnabled: boolean("charges_enabled").notNull().default(false),
    payoutsEnabled: boolean("payouts_enabled").notNull().default(false),
    detailsSubmitted: boolean("details_submitted").notNull().default(false),
    /** What Stripe still needs before charges or payouts (its `requirements.currently_due`). */
    requirementsDue: jsonb("requirements_due").$type<string[]>().notNull().default([]),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [uniqueIndex("connected_accounts_account_key").on(table.stripeAccountId)],
);

/** Money received: a member's dues, paid through Checkout to the community's connected account. */
export const payments = pgTable(
  "payments",
  {
    id: generatedId(),
    communityId: ownedBy("community_id", () => communities.id),
    userId: uuid("user_id").references(() => users.id, { onDelete: "set null" }),
    kind: text("kind").notNull().default("dues"),
    /** One payment per paid Checkout session: a second delivery of its event finds this row and changes nothing. */
    stripeCheckoutSessionId: text("stripe_checkout_session_id").notNull(),
    stripePaymentIntentId: text("stripe_payment_intent_id"),
    amountCents: integer("amount_cents").notNull(),
    applicationFeeCents: integer("application_fee_cents").notNull().default(0),
    currency: text("currency").notNull(),
    /** The dues-paid-until date this payment set. */
    paidUntil: timestamp("paid_until", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex("payments_checkout_session_key").on(table.stripeCheckoutSessionId),
    index("payments_community_created_idx").on(table.communityId, table.createdAt, table.id),
    // A member's own payments in a community (their receipts), newest first.
    index("payments_community_user_created_idx").on(table.communityId, table.userId, table.createdAt, table.id),
  ],
);

export const stripeEventStatus = pgEnum("stripe_event_status", ["pending", "processing", "processed", "ignored", "failed"]);

/**
 * The inbox of Stripe events: stored first (keyed by Stripe's event id, so a duplicate delivery is stored once), with
 * its processing job enqueued in the same transaction, then processed by the background worker.
 */
export const stripeEvents = pgTable(
  "stripe_events",
  {
    /** Stripe's event id (`evt_…`). */
    id: text("id").primaryKey(),
    /** The connected account of a Connect event; null for the platform's own events. */
    account: text("account"),
    type: text("type").notNull(),
    /** The id of the object the event is about (`data.object.id`). */
    objectId: text("object_id"),
    /** Stripe's `created`, in seconds since the epoch. */
    created: bigint("created", { mode: "number" }).notNull(),
    payload: jsonb("payload").notNull(),
    status: stripeEventStatus("status").notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    receivedAt: timestamp("received_at", { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    processedAt: timestamp("processed_at", { withTimezone: true, precision: 3 }),
  },
  (table) => [
    index("stripe_events_status_received_idx").on(table.status, table.receivedAt, table.id),
    index("stripe_events_received_idx").on(table.receivedAt, table.id),
  ],
);

/** Per Stripe object, the `created` of the last event applied to it: an older event never reverts a newer state. */
export const stripeObjectVersions = pgTable("stripe_object_versions", {
  objectId: text("object_id").primaryKey(),
  lastEventCreated: bigint("last_event_created", { mode: "number" }).notNull(),
  lastEventId: text("last_event_id").notNull(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

/** Where each reconciliation left off (the `created` of the newest event it saw), per Stripe event source. */
export const stripeSyncCheckpoints = pgTable("stripe_sync_checkpoints", {
  name: text("name").primaryKey(),
  lastEventCreated: bigint("last_event_created", { mode: "number" }).notNull(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

export type SubscriptionRow = typeof subscriptions.$inferSelect;
export type ConnectedAccountRow = typeof connectedAccounts.$inferSelect;
export type PaymentRow = typeof payments.$inferSelect;
export type StripeEventRow = typeof stripeEvents.$inferSelect;
export type StripeEventStatus = (typeof stripeEventStatus.enumValues)[number];
