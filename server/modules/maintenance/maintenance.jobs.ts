import { lt } from "drizzle-orm";
import { z } from "zod";
import { checkinScans, sessions } from "../../../shared/schema/index.ts";
import { deleteExpiredSignInRows } from "../accounts/sign-in-cleanup.ts";

/** A scanner retries a scan within seconds; a week covers any offline queue. */
const SCAN_ANSWERS_KEPT_MS = 7 * 86_400_000;
import { defineJob } from "../../jobs/job.ts";

/**
 * Periodic cleanup of rows that only grow: expired sessions of local mode
 * (Redis expires its own), sign-in failures and reset tokens past use, and the
 * remembered answers to door scans once the retries they serve are long over.
 * Runs hourly, on one worker across all instances.
 */
export const cleanupJob = defineJob({
  name: "maintenance.cleanup",
  payload: z.object({}).passthrough(),
  schedule: "17 * * * *",
  async handle(_payload, { db, logger }) {
    const expiredSessions = await db.delete(sessions).where(lt(sessions.expire, new Date())).returning({ sid: sessions.sid });
    const signIn = await deleteExpiredSignInRows(db);
    const scans = await db
      .delete(checkinScans)
      .where(lt(checkinScans.createdAt, new Date(Date.now() - SCAN_ANSWERS_KEPT_MS)))
      .returning({ nonce: checkinScans.nonce });
    logger.info({ expiredSessions: expiredSessions.length, ...signIn, oldScanAnswers: scans.length }, "cleanup done");
  },
});
