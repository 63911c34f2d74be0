import { index, integer, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { generatedId, ownedBy } from "./columns.ts";
import { users } from "./users.ts";

/** Reset tokens are stored as SHA-256 hashes: a leaked table does not let anyone reset a password. */
export const passwordResets = pgTable(
  "password_resets",
  {
    id: generatedId(),
    userId: ownedBy("user_id", () => users.id),
    tokenHash: text("token_hash").notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    usedAt: timestamp("used_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [uniqueIndex("password_resets_token_key").on(table.tokenHash), index("password_resets_user_idx").on(table.userId)],
);

/**
 * Counters of attempts per key (failed sign-ins per account and per client
 * address, reset emails per address and per client address), shared by every
 * worker and instance: repeated attempts slow down, then block for a while.
 */
export const throttleCounters = pgTable(
  "throttle_counters",
  {
    key: text("key").primaryKey(),
    hits: integer("hits").notNull().default(0),
    lastHitAt: timestamp("last_hit_at", { withTimezone: true }).notNull().defaultNow(),
    blockedUntil: timestamp("blocked_until", { withTimezone: true }),
  },
  (table) => [index("throttle_counters_last_idx").on(table.lastHitAt)],
);
