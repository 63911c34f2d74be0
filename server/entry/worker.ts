import { buildContainer } from "../container.ts";
import { jobContext } from "../jobs/context.ts";
import { createLogger, type Logger } from "../infra/logger.ts";
import { runnableJobs, startJobRunner, type JobRunner, type JobRunnerOptions } from "../jobs/runner.ts";
import { DeadRunnerLocks } from "../jobs/dead-runners.ts";
import { jobRegistry } from "../jobs/registry.ts";
import { readBacklog } from "../jobs/backlog.ts";
import { observeBacklog } from "../infra/metrics.ts";
import {
  answerMetricsRequests,
  failBoot,
  listenForShutdown,
  loadConfigOrExit,
  logStrayErrors,
  sleep,
  tellPrimary,
} from "./child-process.ts";
import { DEAD_RUNNER_MEMORY_MS, isPrimaryMessage } from "./messages.ts";
import { RETRY_MAX_MS, untilReachable } from "../infra/dependencies.ts";

/**
 * The background worker: runs the job queue (emails, Stripe events, periodic
 * cleanups) outside the request path. Forked by the primary, or alone with `--role=worker`.
 */

interface JobRunnerKeeper {
  /** Resolves once the runner runs: the database answered and the queue's schema is there. */
  started: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Keeps the job runner running: it starts once the database answers (waiting for it, never failing because of it),
 * and starts again, after the same wait, if it ever stops on its own (its connections lost for good). Jobs live in
 * Postgres: nothing is lost meanwhile, they run late; those a stopped runner left locked are released.
 */
function keepJobRunnerRunning(options: JobRunnerOptions, deadRunners: DeadRunnerLocks, logger: Logger): JobRunnerKeeper {
  const stopping = new AbortController();
  let current: JobRunner | undefined;
  const start = async () => {
    current = await untilReachable(() => startJobRunner(options), { dependency: "database", logger, signal: stopping.signal });
    logger.info({ lockedBy: current.lockedBy }, "job runner started");
    // The primary answers with the runners of background workers that died before this one, whose jobs may be locked.
    await tellPrimary({ type: "job-runner", lockedBy: current.lockedBy });
  };
  const restartWhenItStops = async (): Promise<void> => {
    while (current) {
      await current.runner.promise.catch((error: unknown) => logger.error({ err: error }, "job runner stopped"));
      if (stopping.signal.aborted) return;
      deadRunners.add([current.lockedBy]);
      // A runner that stops again at once (a defect rather than an outage) is not restarted in a busy loop.
      await sleep(RETRY_MAX_MS);
      if (stopping.signal.aborted) return;
      logger.warn("starting the job runner again");
      await start();
    }
  };
  const started = start();
  // A first start that fails is the caller's to report (failBoot). An error starting the runner again later (a
  // configuration error by now) ends the process, which the primary restarts.
  const kept = started.then(restartWhenItStops, () => undefined);
  kept.catch((error: unknown) => {
    if (stopping.signal.aborted) return;
    logger.fatal({ err: error }, "job runner could not start again");
    process.exit(1);
  });
  return {
    started,
    async stop() {
      stopping.abort();
      // Jobs in progress finish; jobs not yet started stay in Postgres for the next worker.
      await current?.runner.stop().catch(() => undefined);
      await kept.catch(() => undefined);
    },
  };
}

async function startBackgroundWorker(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger({ level: config.logLevel, role: "worker" });
  logStrayErrors(logger);
  const shutdownControl = listenForShutdown(logger);
  answerMetricsRequests("worker");
  let stopping = false;
  try {
    const container = await buildContainer(config, "worker", logger);
    const context = jobContext(container);
    observeBacklog(() => readBacklog(container.pool, container.db));
    // One connection is the queue's LISTEN; the rest run jobs.
    const concurrency = config.queueConcurrency ?? Math.max(1, config.plan.poolMaxPerProcess - 1);
    const deadRunners = new DeadRunnerLocks(container.pool, logger, DEAD_RUNNER_MEMORY_MS);
    process.on("message", (message) => {
      if (isPrimaryMessage(message) && message.type === "dead-job-runners") deadRunners.add(message.lockedBy);
    });
    deadRunners.start();
    const jobs = keepJobRunnerRunning({ pool: container.pool, concurrency, jobs: jobRegistry, context }, deadRunners, logger);
    shutdownControl.onShutdown(async () => {
      stopping = true;
      await jobs.stop();
      await deadRunners.stop();
      await container.close();
      logger.info("stopped");
    });
    await jobs.started;
    logger.info({ concurrency, jobs: runnableJobs(jobRegistry, context).map((job) => job.name) }, "ready");
    await tellPrimary({ type: "ready" });
  } catch (error) {
    // Asked to stop while waiting for the database: the shutdown in progress ends the process.
    if (!stopping) await failBoot(logger, error);
  }
}

await startBackgroundWorker();
