import type { JobDefinition } from "./job.ts";
import { cleanupJob } from "../modules/maintenance/index.ts";
// The jobs files, not the module's index: the background worker loads no routes.
import { processStripeEventJob } from "../modules/payments/stripe-events.jobs.ts";
import { reconcileStripeEventsJob, sweepStripeStateJob } from "../modules/payments/reconciliation.jobs.ts";
import { sendEmailJob } from "../modules/emails/emails.jobs.ts";
import { duesReminderJob } from "../modules/dues/dues.jobs.ts";

/** Every job the background worker runs: an explicit list, so what runs is read here, not discovered. */
export const jobRegistry: readonly JobDefinition[] = [
  cleanupJob,
  processStripeEventJob,
  reconcileStripeEventsJob,
  sweepStripeStateJob,
  sendEmailJob,
  duesReminderJob,
];
