import { sql } from "drizzle-orm";
import { index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import type { EMAIL_STATUS_VALUES } from "../api/emails.ts";
import { generatedId } from "./columns.ts";

/**
 * Where an email stands (docs/operations.md, Emails):
 * - `queued`: waiting for the sender; `sending`: claimed by the sender, outcome not recorded yet (after a crash, SendGrid
 *   may or may not have it: it is never sent again by itself);
 * - `sent`: SendGrid accepted it; `failed`: refused for good, or out of attempts; `captured`: no SendGrid key, stored only;
 * - `suppressed`: not sent, the address bounced or complained before;
 * - `delivered`, `bounced`, `dropped`: what SendGrid's Event Webhook reported afterwards.
 */
export type EmailStatus = (typeof EMAIL_STATUS_VALUES)[number];

/** One entry per attempt to hand the email to SendGrid, and per event reported about it. */
export interface EmailHistoryEntry {
  at: string;
  outcome: string;
  error?: string;
}

/**
 * The outbox: every email the product sends, written (rendered) in the transaction of what causes it, sent afterwards
 * by the background worker. Without a mail provider configured, emails stay here as `captured`, readable by operators
 * and by tests.
 */
export const emails = pgTable(
  "emails",
  {
    id: generatedId(),
    toAddress: text("to_address").notNull(),
    template: text("template").notNull(),
    payload: jsonb("payload").notNull().default({}),
    subject: text("subject").notNull(),
    bodyText: text("body_text").notNull(),
    bodyHtml: text("body_html"),
    /** What makes two requests one email (a retried registration queues one welcome); unique. */
    dedupeKey: text("dedupe_key")
      .notNull()
      .default(sql`gen_random_uuid()::text`),
    status: text("status").$type<EmailStatus>().notNull().default("queued"),
    attempts: integer("attempts").notNull().default(0),
    providerMessageId: text("provider_message_id"),
    lastError: text("last_error"),
    history: jsonb("history").$type<EmailHistoryEntry[]>().notNull().default([]),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    lastAttemptAt: timestamp("last_attempt_at", { withTimezone: true }),
    sentAt: timestamp("sent_at", { withTimezone: true }),
  },
  (table) => [
    index("emails_to_created_idx").on(table.toAddress, table.createdAt),
    index("emails_created_idx").on(table.createdAt, table.id),
    uniqueIndex("emails_dedupe_key_idx").on(table.dedupeKey),
    index("emails_provider_message_idx").on(table.providerMessageId),
  ],
);

export type EmailRow = typeof emails.$inferSelect;

/** Addresses that bounced or complained (SendGrid Event Webhook): nothing more is sent to them. */
export const emailSuppressions = pgTable("email_suppressions", {
  address: text("address").primaryKey(),
  reason: text("reason").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

/** Event Webhook events already applied, by SendGrid's `sg_event_id`: a redelivered batch counts once. */
export const emailEvents = pgTable("email_events", {
  id: text("id").primaryKey(),
  emailId: uuid("email_id"),
  type: text("type").notNull(),
  receivedAt: timestamp("received_at", { withTimezone: true }).notNull().defaultNow(),
});
