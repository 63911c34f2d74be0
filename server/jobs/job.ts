import type { Cache } from "../infra/cache.ts";
import type { z } from "zod";
import type { Logger } from "pino";
import type Stripe from "stripe";
import type { Database } from "../infra/db/client.ts";
import type { Mailer } from "../infra/mailer.ts";
import type { AppEnv } from "../config/env.ts";
import type { EmailOutbox } from "../modules/emails/outbox.ts";

export interface JobContext {
  db: Database;
  cache: Cache;
  logger: Logger;
  /** Queues emails in a job's transaction (captured when SendGrid is not configured). */
  emails: EmailOutbox;
  /** Absent when payments are off (no Stripe key). */
  stripe?: { client: Stripe; settings: NonNullable<AppEnv["stripe"]> };
  /** Absent without a SendGrid key (emails are then captured, never sent). */
  email?: { mailer: Mailer; settings: AppEnv["email"] };
  /** Which run of this job this is, set by the runner: a handler that records its own failures knows when it is the last. */
  attempt?: { number: number; last: boolean };
}

/**
 * A job is a pair: its definition (name and payload schema, known to whoever
 * enqueues it) and its handler (run by the background worker).
 */
export interface JobDefinition<Payload extends z.ZodType = z.ZodType> {
  name: string;
  payload: Payload;
  /** Crontab expression for periodic jobs (run by the worker's scheduler, once per tick across instances). */
  schedule?: string;
  /**
   * Whether a worker with this context runs the job: one without what the job needs (payments off) leaves its jobs in
   * the queue for a worker that has it, rather than failing them.
   */
  runsWith?(context: JobContext): boolean;
  handle(payload: z.infer<Payload>, context: JobContext): Promise<void>;
}

export function defineJob<Payload extends z.ZodType>(definition: JobDefinition<Payload>): JobDefinition<Payload> {
  return definition;
}
