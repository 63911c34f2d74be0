import { integer, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { generatedId } from "./columns.ts";

export const users = pgTable(
  "users",
  {
    id: generatedId(),
    /** Stored lower-cased and trimmed (see shared/api/auth.ts), so the unique index is case-insensitive. */
    email: text("email").notNull(),
    name: text("name").notNull(),
    passwordHash: text("password_hash").notNull(),
    /** Stamped into each session at sign-in; bumping it (password change or reset) ends every other session. */
    sessionVersion: integer("session_version").notNull().default(0),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [uniqueIndex("users_email_key").on(table.email)],
);

export type UserRow = typeof users.$inferSelect;
