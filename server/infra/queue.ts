import { sql, type SQL } from "drizzle-orm";
import type { z } from "zod";
import type { Database } from "./db/client.ts";
import type { DbPool } from "./db/types.ts";
import type { JobDefinition } from "../jobs/job.ts";

/** A database or an open transaction: enqueueing inside the caller's transaction is the point. */
type Executor = Pick<Database, "execute">;

export interface EnqueueOptions {
  /** Jobs with the same key replace each other while pending: one job per thing to do. */
  jobKey?: string;
  runAt?: Date;
  maxAttempts?: number;
  /** graphile-worker's named queue: its jobs run one at a time, in order (one queue per thing that must not race). */
  queueName?: string;
}

/**
 * Adds a job in the caller's transaction (transactional outbox): it exists if and
 * only if the write that causes it commits.
 */
export async function enqueueJob<Payload extends z.ZodType>(
  executor: Executor,
  job: JobDefinition<Payload>,
  payload: z.infer<Payload>,
  options: EnqueueOptions = {},
): Promise<void> {
  await executor.execute(sql`select ${addJobCall(job, payload, options)}`);
}

/**
 * The call that adds the job, for a statement that adds it only on a condition of its own (`select <call> from
 * inserted_rows`), in the same round trip as the write.
 */
export function addJobCall<Payload extends z.ZodType>(
  job: JobDefinition<Payload>,
  payload: z.infer<Payload>,
  options: EnqueueOptions = {},
): SQL {
  const checked: unknown = job.payload.parse(payload);
  return sql`graphile_worker.add_job(
    identifier => ${job.name},
    payload => ${JSON.stringify(checked)}::json,
    run_at => ${options.runAt?.toISOString() ?? null}::timestamptz,
    max_attempts => ${options.maxAttempts ?? null}::int,
    job_key => ${options.jobKey ?? null},
    queue_name => ${options.queueName ?? null}
  )`;
}

/** The queue's jobs by state, for the metrics: one pass over graphile-worker's table. */
export async function countJobsByState(pool: DbPool): Promise<Record<"ready" | "scheduled" | "running" | "failed", number>> {
  const result = await pool.query<{ ready: number; scheduled: number; running: number; failed: number }>(
    `select count(*) filter (where attempts < max_attempts and locked_at is null and run_at <= now())::int as ready,
            count(*) filter (where attempts < max_attempts and locked_at is null and run_at > now())::int as scheduled,
            count(*) filter (where attempts < max_attempts and locked_at is not null)::int as running,
            count(*) filter (where attempts >= max_attempts)::int as failed
       from graphile_worker.jobs`,
  );
  return result.rows[0] ?? { ready: 0, scheduled: 0, running: 0, failed: 0 };
}
