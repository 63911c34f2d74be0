import { index, json, pgTable, timestamp, varchar } from "drizzle-orm/pg-core";

/**
 * Sessions in local mode (no REDIS_URL), shared by every worker through Postgres.
 * The column names are the ones connect-pg-simple reads and writes.
 */
export const sessions = pgTable(
  "sessions",
  {
    sid: varchar("sid").primaryKey(),
    sess: json("sess").notNull(),
    expire: timestamp("expire", { precision: 6 }).notNull(),
  },
  (table) => [index("sessions_expire_idx").on(table.expire)],
);
