import type { Database } from "../infra/db/client.ts";
import type { DbPool } from "../infra/db/types.ts";
import type { Backlog } from "../infra/metrics.ts";
import { countJobsByState } from "../infra/queue.ts";
import { StripeEventsRepository } from "../modules/payments/stripe-events.repo.ts";
import { EmailsRepository } from "../modules/emails/emails.repo.ts";

/**
 * What waits in Postgres, as the background worker's metrics report it: the queue, the Stripe inbox, the email
 * outbox. One query after the other on one connection at a time: a scrape must not take the jobs' connections.
 */
export async function readBacklog(pool: DbPool, db: Database): Promise<Backlog> {
  const events = new StripeEventsRepository();
  const jobs = await countJobsByState(pool);
  const webhookEvents = await events.countByStatus(db);
  const webhookEventsFailedLastHour = await events.countFailedInLastHour(db);
  const emails = await new EmailsRepository().countByStatus(db);
  return { jobs, webhookEvents, webhookEventsFailedLastHour, emails };
}
