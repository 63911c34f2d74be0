import { index, integer, pgEnum, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { generatedId, ownedBy } from "./columns.ts";
import { plans } from "./plans.ts";
import { users } from "./users.ts";

export const joinPolicy = pgEnum("join_policy", ["open", "invite"]);
/** From most to least: the order of this list is the order of power (server/modules/communities/policy.ts). */
export const memberRole = pgEnum("member_role", ["owner", "admin", "staff", "member"]);

export const communities = pgTable(
  "communities",
  {
    id: generatedId(),
    slug: text("slug").notNull(),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    joinPolicy: joinPolicy("join_policy").notNull().default("invite"),
    /** The plan whose limits apply: `free`, or the plan of an active (or past due) subscription. */
    plan: text("plan")
      .notNull()
      .default("free")
      .references(() => plans.id),
    /** Membership dues, paid through the community's connected account; null: no dues. */
    duesAmountCents: integer("dues_amount_cents"),
    duesCurrency: text("dues_currency").notNull().default("eur"),
    /** How long one payment of dues lasts. */
    duesPeriodMonths: integer("dues_period_months").notNull().default(12),
    /** Kept by the same transaction as every membership change, so listing communities never counts rows. */
    memberCount: integer("member_count").notNull().default(0),
    createdAt: timestamp("created_at", { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (table) => [uniqueIndex("communities_slug_key").on(table.slug)],
);

export const memberships = pgTable(
  "memberships",
  {
    communityId: ownedBy("community_id", () => communities.id),
    userId: ownedBy("user_id", () => users.id),
    role: memberRole("role").notNull().default("member"),
    /** The member's name, copied at join: the members page is then one index range scan in name order. */
    memberName: text("member_name").notNull(),
    joinedAt: timestamp("joined_at", { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    /** Extended by each dues payment by the community's dues period; null: never paid. */
    duesPaidUntil: timestamp("dues_paid_until", { withTimezone: true }),
  },
  (table) => [
    primaryKey({ columns: [table.communityId, table.userId] }),
    index("memberships_community_name_idx").on(table.communityId, table.memberName, table.userId),
    index("memberships_user_idx").on(table.userId, table.joinedAt),
  ],
);

export const news = pgTable(
  "news",
  {
    id: generatedId(),
    communityId: ownedBy("community_id", () => communities.id),
    authorId: uuid("author_id").references(() => users.id, { onDelete: "set null" }),
    title: text("title").notNull(),
    body: text("body").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (table) => [index("news_community_created_idx").on(table.communityId, table.createdAt, table.id)],
);

export type CommunityRow = typeof communities.$inferSelect;
export type MembershipRow = typeof memberships.$inferSelect;
export type NewsRow = typeof news.$inferSelect;
export type MemberRole = (typeof memberRole.enumValues)[number];
