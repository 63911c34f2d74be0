import type { z } from "zod";
import type { Logger } from "pino";
import type { Database } from "../infra/db/client.ts";
import type { Mailer } from "../infra/mailer.ts";
import type { AppEnv } from "../config/env.ts";

export interface JobContext {
  db: Database;
  logger: Logger;
  config: AppEnv;
  /** Undefined without a SendGrid key. */
  mailer: Mailer | undefined;
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
  handle(payload: z.infer<Payload>, context: JobContext): Promise<void>;
}

export function defineJob<Payload extends z.ZodType>(definition: JobDefinition<Payload>): JobDefinition<Payload> {
  return definition;
}
