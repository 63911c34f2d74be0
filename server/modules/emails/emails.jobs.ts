import { z } from "zod";
import type { EmailRow } from "../../../shared/schema/index.ts";
import { defineJob, type JobContext } from "../../jobs/job.ts";
import { enqueueJob } from "../../infra/queue.ts";
import { MailerError } from "../../infra/mailer.ts";
import { EmailsRepository } from "./emails.repo.ts";
import { maskAddress } from "./mask.ts";
import { renderAttachments } from "./templates/index.ts";

const emails = new EmailsRepository();

type Sending = NonNullable<JobContext["email"]>;

/** The longest wait between two attempts. */
const MAX_BACKOFF_MS = 60 * 60 * 1_000;

/** When the next attempt runs: at SendGrid's word when it gave one (429), else after base × 2^(attempts − 1); within an hour. */
export function nextAttemptAt(attempts: number, baseMs: number, providerSays: Date | undefined, now = Date.now()): Date {
  if (providerSays) return new Date(Math.min(Math.max(providerSays.getTime(), now), now + MAX_BACKOFF_MS));
  return new Date(now + Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.max(0, attempts - 1)));
}

/**
 * Hands one email of the outbox to SendGrid. The claim (`queued` → `sending`) commits before the call, so an email is
 * sent at most once: a job that finds it in any other state does nothing, and one left `sending` by a crash stays so
 * for operators to decide (SendGrid may have it). Retryable failures put it back to `queued` with the next attempt
 * enqueued in the same transaction; the job itself succeeds, so the queue's own retries are kept for database errors.
 */
export const sendEmailJob = defineJob({
  name: "emails.send",
  payload: z.object({ emailId: z.uuid() }),
  // A worker without a SendGrid key leaves send jobs to one that has it (without a key, emails are captured, not queued).
  runsWith: (context) => context.email !== undefined,
  async handle({ emailId }, context) {
    const { db, logger, email: sending } = context;
    if (!sending) throw new Error("emails.send runs only where SendGrid is configured");
    const email = await emails.claim(db, emailId);
    if (!email) {
      logger.info({ emailId }, "no queued email with this id; nothing to send");
      return;
    }
    const log = logger.child({ emailId, template: email.template, to: maskAddress(email.toAddress), attempt: email.attempts });
    if (email.status === "suppressed") {
      log.info("email not sent: its address is suppressed");
      return;
    }
    await attempt(email, sending, context, log);
  },
});

async function attempt(email: EmailRow, { mailer }: Sending, context: JobContext, log: JobContext["logger"]): Promise<void> {
  const attachments = await renderAttachments(email.template, email.payload).catch(async (error: unknown) => {
    // A payload its template no longer accepts: sending would fail the same way every time.
    const reason = `attachments not rendered: ${error instanceof Error ? error.message.slice(0, 300) : String(error)}`;
    await emails.recordOutcome(context.db, email.id, { status: "failed", error: reason });
    log.error({ error: reason }, "email failed");
  });
  if (!attachments) return;
  let messageId: string | undefined;
  try {
    ({ messageId } = await mailer.send({
      to: email.toAddress,
      subject: email.subject,
      text: email.bodyText,
      html: email.bodyHtml ?? "",
      attachments,
      customArgs: { email_id: email.id },
    }));
  } catch (error) {
    // An error other than a failed call (a defect) leaves the email `sending`: whether SendGrid got it is unknown.
    if (!(error instanceof MailerError)) throw error;
    await attemptFailed(email, error, context, log);
    return;
  }
  await emails.recordOutcome(context.db, email.id, { status: "sent", providerMessageId: messageId });
  log.info({ messageId }, "email sent");
}

async function attemptFailed(
  email: EmailRow,
  error: MailerError,
  { db, email: sending }: JobContext,
  log: JobContext["logger"],
): Promise<void> {
  const { maxAttempts, retryBaseMs } = (sending as Sending).settings;
  if (!error.retry || email.attempts >= maxAttempts) {
    await emails.recordOutcome(db, email.id, { status: "failed", error: error.message });
    log.warn({ error: error.message }, "email failed");
    return;
  }
  const runAt = nextAttemptAt(email.attempts, retryBaseMs, error.retryAt);
  await db.transaction(async (tx) => {
    await emails.recordOutcome(tx, email.id, { status: "queued", error: error.message });
    await enqueueJob(tx, sendEmailJob, { emailId: email.id }, { runAt });
  });
  log.warn({ error: error.message, retryAt: runAt.toISOString() }, "email not sent; retrying later");
}
