import { integer, pgTable, text } from "drizzle-orm/pg-core";

/**
 * The SaaS plans a community is on: seeded by a migration, read-mostly. Their Stripe price ids come from the
 * configuration (a test account and a live one have different ids for the same plan), not from this table.
 */
export const plans = pgTable("plans", {
  /** `free`, `pro` or `premium`. */
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  /** From the cheapest up: the plan that lifts a limit is the next one up whose limit is higher. */
  rank: integer("rank").notNull(),
  priceMonthlyCents: integer("price_monthly_cents").notNull(),
  currency: text("currency").notNull(),
  /** Null: no limit. */
  membersLimit: integer("members_limit"),
  /** Null: no limit. */
  eventsPerMonthLimit: integer("events_per_month_limit"),
  requestsPerMinute: integer("requests_per_minute").notNull(),
});

export type PlanRow = typeof plans.$inferSelect;
