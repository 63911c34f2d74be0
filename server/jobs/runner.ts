import { EventEmitter } from "node:events";
import { Logger as QueueLogger, parseCronItems, run, type Runner, type TaskList, type WorkerEvents } from "graphile-worker";
import type { Logger } from "pino";
import type pg from "pg";
import type { JobContext, JobDefinition } from "./job.ts";

export interface JobRunnerOptions {
  pool: pg.Pool;
  concurrency: number;
  jobs: readonly JobDefinition[];
  context: JobContext;
}

/**
 * Runs the registry's jobs on graphile-worker: jobs live in Postgres (nothing
 * accepted is lost), are picked up at once through LISTEN/NOTIFY, retried with
 * backoff, and periodic jobs fire once per tick across every instance.
 */
/** The jobs a worker with this context runs (see JobDefinition.runsWith). */
export function runnableJobs(jobs: readonly JobDefinition[], context: JobContext): JobDefinition[] {
  return jobs.filter((job) => job.runsWith?.(context) ?? true);
}

export async function startJobRunner({ pool, concurrency, jobs: registered, context }: JobRunnerOptions): Promise<Runner> {
  const jobs = runnableJobs(registered, context);
  const events = new EventEmitter() as WorkerEvents;
  // On another connection than the LISTEN one: graphile-worker is issuing its LISTEN on that one right now.
  events.on("pool:listen:success", ({ workerPool, client }) => {
    registerRunner(pool, workerPool.id, (client as unknown as { processID: number }).processID).catch((error: unknown) =>
      context.logger.warn({ err: error }, "registering the job runner failed: its jobs are freed only after 4 hours if it dies"),
    );
  });
  const runner = await run({
    pgPool: pool,
    concurrency,
    noHandleSignals: true,
    events,
    logger: queueLogger(context.logger),
    taskList: taskListOf(jobs, context),
    parsedCronItems: parseCronItems(
      jobs.filter((job) => job.schedule).map((job) => ({ task: job.name, match: job.schedule as string, identifier: job.name })),
    ),
  });
  const sweep = setInterval(() => {
    unlockAbandonedJobs(pool).then(
      (pools) => pools.length > 0 && context.logger.warn({ pools }, "jobs of a job runner that died unlocked: they run again"),
      (error: unknown) => context.logger.warn({ err: error }, "looking for jobs of a job runner that died failed"),
    );
  }, SWEEP_EVERY_MS);
  void runner.promise.finally(() => clearInterval(sweep)).catch(() => undefined);
  return runner;
}

/**
 * A runner that dies (killed, out of memory) leaves its jobs locked; graphile-worker itself frees them only after four
 * hours, and a named queue waits behind such a job all that time. So each runner registers the Postgres backend of its
 * LISTEN connection, which ends the moment its process dies, and every runner frees the jobs of runners whose backend
 * is gone.
 */
async function registerRunner(pool: pg.Pool, poolId: string, listenPid: number): Promise<void> {
  await pool.query(
    `insert into job_runners (pool_id, listen_pid) values ($1, $2)
     on conflict (pool_id) do update set listen_pid = excluded.listen_pid, updated_at = now()`,
    [poolId, listenPid],
  );
}

/** Younger locks are left alone: a runner that has just started may not be registered yet. */
const ABANDONED_AFTER_S = 5;
const SWEEP_EVERY_MS = 5_000;

/** Frees the jobs (and named queues) locked by runners whose LISTEN backend is gone; returns their ids. */
export async function unlockAbandonedJobs(pool: pg.Pool): Promise<string[]> {
  const { rows } = await pool.query<{ locked_by: string }>(
    `select distinct jobs.locked_by from graphile_worker.jobs
      where jobs.locked_by is not null and jobs.locked_at < now() - make_interval(secs => $1)
        and not exists (
          select 1 from job_runners join pg_stat_activity on pg_stat_activity.pid = job_runners.listen_pid
           where job_runners.pool_id = jobs.locked_by)`,
    [ABANDONED_AFTER_S],
  );
  const ids = rows.map((row) => row.locked_by);
  if (ids.length > 0) await pool.query("select graphile_worker.force_unlock_workers($1::text[])", [ids]);
  await pool.query(
    `delete from job_runners where updated_at < now() - make_interval(secs => $1)
        and not exists (select 1 from pg_stat_activity where pg_stat_activity.pid = job_runners.listen_pid)`,
    [ABANDONED_AFTER_S],
  );
  return ids;
}

function taskListOf(jobs: readonly JobDefinition[], context: JobContext): TaskList {
  return Object.fromEntries(
    jobs.map((job) => [
      job.name,
      async (rawPayload: unknown, helpers: { job: { id: string; attempts: number; max_attempts: number } }) => {
        const logger = context.logger.child({ job: job.name, jobId: helpers.job.id, attempt: helpers.job.attempts });
        // A payload that no longer matches its schema throws: the job fails visibly rather than running on bad data.
        const payload: unknown = job.payload.parse(rawPayload ?? {});
        const attempt = { number: helpers.job.attempts, last: helpers.job.attempts >= helpers.job.max_attempts };
        await job.handle(payload, { ...context, logger, attempt });
      },
    ]),
  );
}

/** graphile-worker's own messages, into our JSON log. */
function queueLogger(logger: Logger): QueueLogger {
  const queue = logger.child({ component: "queue" });
  return new QueueLogger(() => (level, message, meta) => {
    const method = level === "error" ? "error" : level === "warning" ? "warn" : level === "info" ? "info" : "debug";
    queue[method]({ meta }, message);
  });
}
