import { integer, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * The job runners alive, as far as they know: each names the Postgres backend of its LISTEN connection, which ends the
 * moment its process dies. Jobs locked by a runner whose backend is gone are freed (server/jobs/runner.ts).
 */
export const jobRunners = pgTable("job_runners", {
  /** graphile-worker's pool id: what it writes in `locked_by` of the jobs it runs. */
  poolId: text("pool_id").primaryKey(),
  listenPid: integer("listen_pid").notNull(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});
