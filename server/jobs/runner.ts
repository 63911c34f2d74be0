import { EventEmitter } from "node:events";
import { Logger as QueueLogger, parseCronItems, run, type Runner, type TaskList, type WorkerEvents } from "graphile-worker";
import type { Logger } from "pino";
import type pg from "pg";
import type { JobContext, JobDefinition } from "./job.ts";
import { jobCompletions, jobFailures } from "../infra/metrics.ts";

export interface JobRunnerOptions {
  pool: pg.Pool;
  concurrency: number;
  jobs: readonly JobDefinition[];
  context: JobContext;
}

export interface JobRunner {
  runner: Runner;
  /** What the runner writes in `locked_by` of the jobs it takes: they stay locked under it until it completes or fails them. */
  lockedBy: string;
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

export async function startJobRunner({ pool, concurrency, jobs: registered, context }: JobRunnerOptions): Promise<JobRunner> {
  const jobs = runnableJobs(registered, context);
  // graphile-worker names its worker pool only in this event, emitted while `run` builds it.
  const events: WorkerEvents = new EventEmitter();
  let lockedBy: string | undefined;
  events.once("pool:create", ({ workerPool }) => (lockedBy = workerPool.id));
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
  if (lockedBy === undefined) {
    await runner.stop();
    throw new Error("graphile-worker started without naming its worker pool");
  }
  return { runner, lockedBy };
}

function taskListOf(jobs: readonly JobDefinition[], context: JobContext): TaskList {
  return Object.fromEntries(
    jobs.map((job) => [
      job.name,
      async (rawPayload: unknown, helpers: { job: { id: string; attempts: number; max_attempts: number } }) => {
        const logger = context.logger.child({ job: job.name, jobId: helpers.job.id, attempt: helpers.job.attempts });
        try {
          // A payload that no longer matches its schema throws: the job fails visibly rather than running on bad data.
          const payload: unknown = job.payload.parse(rawPayload ?? {});
          const attempt = { number: helpers.job.attempts, last: helpers.job.attempts >= helpers.job.max_attempts };
          await job.handle(payload, { ...context, logger, attempt });
          jobCompletions.inc({ task: job.name });
        } catch (error) {
          jobFailures.inc({ task: job.name });
          throw error;
        }
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
