import type { Container } from "../container.ts";
import { emailOutbox } from "../modules/emails/outbox.ts";
import type { JobContext } from "./job.ts";

/**
 * What jobs may use, from a process's container: the database, the cache, the log, the email outbox, when payments are on the
 * Stripe client and its settings, and when SendGrid is configured its client and the email settings. The background
 * worker's jobs get it, and tests that run jobs build theirs the same way.
 */
export function jobContext({ db, logger, stripe, mailer, config, cache }: Container, log: JobContext["logger"] = logger): JobContext {
  return {
    db,
    cache,
    logger: log,
    emails: emailOutbox({ config }),
    stripe: stripe && config.stripe ? { client: stripe, settings: config.stripe } : undefined,
    email: mailer ? { mailer, settings: config.email } : undefined,
  };
}
