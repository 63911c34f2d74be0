import { index, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { generatedId } from "./columns.ts";

/**
 * Every email the product sends, written in the transaction of what causes it.
 * Without a mail provider configured, emails stay here as `captured`, readable
 * by operators and by tests.
 */
export const emails = pgTable(
  "emails",
  {
    id: generatedId(),
    toAddress: text("to_address").notNull(),
    template: text("template").notNull(),
    subject: text("subject").notNull(),
    bodyText: text("body_text").notNull(),
    status: text("status").notNull().default("captured"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index("emails_to_created_idx").on(table.toAddress, table.createdAt)],
);

export type EmailRow = typeof emails.$inferSelect;
