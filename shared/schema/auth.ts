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
 * Failed sign-ins per account and per client address, shared by every worker
 * and instance: repeated failures slow down, then block for a while.
 */
export const loginFailures = pgTable(
  "login_failures",
  {
    key: text("key").primaryKey(),
    failures: integer("failures").notNull().default(0),
    lastFailureAt: timestamp("last_failure_at", { withTimezone: true }).notNull().defaultNow(),
    blockedUntil: timestamp("blocked_until", { withTimezone: true }),
  },
  (table) => [index("login_failures_last_idx").on(table.lastFailureAt)],
);
