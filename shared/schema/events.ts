import { index, integer, pgEnum, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { generatedId, ownedBy } from "./columns.ts";
import { users } from "./users.ts";
import { communities } from "./communities.ts";

export const events = pgTable(
  "events",
  {
    id: generatedId(),
    communityId: ownedBy("community_id", () => communities.id),
    title: text("title").notNull(),
    startsAt: timestamp("starts_at", { withTimezone: true, precision: 3 }).notNull(),
    endsAt: timestamp("ends_at", { withTimezone: true }),
    location: text("location"),
    /** Null: no limit. */
    capacity: integer("capacity"),
    /** Incremented under the event's row lock with every ticket: the seat count never oversells. */
    ticketsIssued: integer("tickets_issued").notNull().default(0),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index("events_community_starts_idx").on(table.communityId, table.startsAt, table.id)],
);

export const ticketStatus = pgEnum("ticket_status", ["valid", "revoked"]);

export const tickets = pgTable(
  "tickets",
  {
    id: generatedId(),
    eventId: ownedBy("event_id", () => events.id),
    userId: ownedBy("user_id", () => users.id),
    status: ticketStatus("status").notNull().default("valid"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [uniqueIndex("tickets_event_user_key").on(table.eventId, table.userId), index("tickets_user_idx").on(table.userId)],
);

/** One row per admitted ticket: the primary key, not a read before the write, guarantees a single check-in. */
export const checkins = pgTable(
  "checkins",
  {
    ticketId: uuid("ticket_id")
      .primaryKey()
      .references(() => tickets.id, { onDelete: "cascade" }),
    eventId: ownedBy("event_id", () => events.id),
    scannedBy: uuid("scanned_by").references(() => users.id, { onDelete: "set null" }),
    checkedInAt: timestamp("checked_in_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index("checkins_event_idx").on(table.eventId)],
);

/**
 * The answer given to each scan that carried a nonce, so a repeated request
 * (double tap, network retry) gets the same answer instead of "already checked
 * in". A nonce is one scanner's: it is scoped to the event and the person
 * scanning, and bound to the scanned code by its SHA-256, so the same nonce
 * with another code is refused rather than answered with someone else's scan.
 * The answer is kept as the exact bytes first sent.
 */
export const checkinScans = pgTable(
  "checkin_scans",
  {
    eventId: ownedBy("event_id", () => events.id),
    scannedBy: ownedBy("scanned_by", () => users.id),
    nonce: text("nonce").notNull(),
    codeHash: text("code_hash").notNull(),
    /** The result and the body sent, filled in by the transaction that claimed the nonce. */
    result: text("result"),
    body: text("body"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.eventId, table.scannedBy, table.nonce] }),
    index("checkin_scans_created_idx").on(table.createdAt),
  ],
);

export type EventRow = typeof events.$inferSelect;
export type TicketRow = typeof tickets.$inferSelect;
export type CheckinRow = typeof checkins.$inferSelect;
