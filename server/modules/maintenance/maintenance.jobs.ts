import { lt } from "drizzle-orm";
import { z } from "zod";
import { sessions } from "../../../shared/schema/index.ts";
import { defineJob } from "../../jobs/job.ts";

/**
 * Periodic cleanup of rows that only grow: expired sessions of local mode
 * (Redis expires its own). Runs hourly, on one worker across all instances.
 */
export const cleanupJob = defineJob({
  name: "maintenance.cleanup",
  payload: z.object({}).passthrough(),
  schedule: "17 * * * *",
  async handle(_payload, { db, logger }) {
    const expiredSessions = await db.delete(sessions).where(lt(sessions.expire, new Date())).returning({ sid: sessions.sid });
    logger.info({ expiredSessions: expiredSessions.length }, "cleanup done");
  },
});
