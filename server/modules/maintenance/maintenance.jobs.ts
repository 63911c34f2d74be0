import { z } from "zod";
import { defineJob } from "../../jobs/job.ts";
import { deleteExpiredSessions } from "../../infra/sessions.ts";
// Repositories, not the modules' index files: the background worker loads no routes.
import { PasswordResetsRepository } from "../accounts/password-resets.repo.ts";
import { ThrottleRepository } from "../accounts/throttle.repo.ts";
import { LONGEST_THROTTLE_S } from "../accounts/throttles.ts";
import { CheckinsRepository } from "../checkins/checkins.repo.ts";
import { EmailsRepository } from "../emails/emails.repo.ts";

const DAY_S = 86_400;
/** A used or expired reset token is kept a day, for support questions about it. */
const RESETS_KEPT_AFTER_EXPIRY_S = DAY_S;
/** A scanner retries a scan within seconds; a week covers any offline queue. */
const SCAN_ANSWERS_KEPT_S = 7 * DAY_S;
/** Captured emails (no provider configured) stay readable by operators for a week. */
const CAPTURED_EMAILS_KEPT_S = 7 * DAY_S;
/** SendGrid redelivers an Event Webhook batch for a day at most: a week of seen event ids dedupes every retry. */
const EMAIL_EVENT_IDS_KEPT_S = 7 * DAY_S;

const throttles = new ThrottleRepository();
const resets = new PasswordResetsRepository();
const scans = new CheckinsRepository();
const emails = new EmailsRepository();

/**
 * Periodic cleanup of rows that only grow, each through the repository of the
 * module that owns them: expired sessions of local mode (Redis expires its
 * own), throttle counters past their window, reset tokens past use, the
 * remembered answers to door scans once the retries they serve are long over,
 * old captured emails and the ids of SendGrid events past redelivery. Runs hourly, on one worker across all instances.
 */
export const cleanupJob = defineJob({
  name: "maintenance.cleanup",
  payload: z.object({}).passthrough(),
  schedule: "17 * * * *",
  async handle(_payload, { db, logger }) {
    const deleted = {
      expiredSessions: await deleteExpiredSessions(db),
      throttleCounters: await throttles.deleteIdle(db, LONGEST_THROTTLE_S),
      passwordResets: await resets.deleteExpired(db, RESETS_KEPT_AFTER_EXPIRY_S),
      oldScanAnswers: await scans.deleteScansOlderThan(db, SCAN_ANSWERS_KEPT_S),
      capturedEmails: await emails.deleteCapturedOlderThan(db, CAPTURED_EMAILS_KEPT_S),
      emailEventIds: await emails.deleteEventsOlderThan(db, EMAIL_EVENT_IDS_KEPT_S),
    };
    logger.info(deleted, "cleanup done");
  },
});
