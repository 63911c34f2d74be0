import { z } from "zod";
import { defineJob } from "../../jobs/job.ts";
import { DuesRepository } from "./dues.repo.ts";

const DAY_MS = 86_400_000;
/** How long before their dues run out members are reminded. */
export const REMINDER_LEAD_DAYS = 7;

const dues = new DuesRepository();

/**
 * Reminds members whose paid dues run out within the week, once per period (the email's key names the date they run
 * out): the first daily run of that week sends it, so a day the worker was down delays a reminder by a day, never
 * loses it.
 */
export const duesReminderJob = defineJob({
  name: "dues.remind",
  payload: z.object({}).passthrough(),
  schedule: "0 8 * * *",
  async handle(_payload, { db, emails, logger }) {
    const now = new Date();
    const ending = await dues.duesEndingBetween(db, now, new Date(now.getTime() + REMINDER_LEAD_DAYS * DAY_MS));
    const queued = await db.transaction(async (tx) => {
      let count = 0;
      for (const member of ending) {
        if (member.amountCents === null || member.paidUntil === null) continue;
        const id = await emails.queue(tx, {
          to: member.email,
          template: "dues_reminder",
          dedupeKey: `${member.communityId}:${member.userId}:${member.paidUntil.toISOString()}`,
          payload: {
            name: member.name,
            communityName: member.communityName,
            amountMinor: member.amountCents,
            currency: member.currency,
            dueOn: member.paidUntil.toISOString(),
            link: emails.linkTo(`/communities/${encodeURIComponent(member.slug)}/dues`),
          },
        });
        if (id) count += 1;
      }
      return count;
    });
    logger.info({ members: ending.length, queued }, "dues reminders queued");
  },
});
