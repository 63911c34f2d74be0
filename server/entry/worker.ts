import type { Runner } from "graphile-worker";
import { buildContainer } from "../container.ts";
import { createLogger, type Logger } from "../infra/logger.ts";
import { startJobRunner, type JobRunnerOptions } from "../jobs/runner.ts";
import { jobRegistry } from "../jobs/registry.ts";
import { failBoot, listenForShutdown, loadConfigOrExit, logStrayErrors, sleep, tellPrimary } from "./child-process.ts";
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
 * Postgres: nothing is lost meanwhile, they run late.
 */
function keepJobRunnerRunning(options: JobRunnerOptions, logger: Logger): JobRunnerKeeper {
  const stopping = new AbortController();
  let runner: Runner | undefined;
  const start = async () => {
    runner = await untilReachable(() => startJobRunner(options), { dependency: "database", logger, signal: stopping.signal });
  };
  const restartWhenItStops = async (): Promise<void> => {
    while (runner) {
      await runner.promise.catch((error: unknown) => logger.error({ err: error }, "job runner stopped"));
      if (stopping.signal.aborted) return;
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
      await runner?.stop().catch(() => undefined);
      await kept.catch(() => undefined);
    },
  };
}

async function startBackgroundWorker(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger({ level: config.logLevel, role: "worker" });
  logStrayErrors(logger);
  const shutdownControl = listenForShutdown(logger);
  let stopping = false;
  try {
    const container = await buildContainer(config, "worker", logger);
    // One connection is the queue's LISTEN; the rest run jobs.
    const concurrency = config.queueConcurrency ?? Math.max(1, config.plan.poolMaxPerProcess - 1);
    const jobs = keepJobRunnerRunning({ pool: container.pool, concurrency, jobs: jobRegistry, context: container }, logger);
    shutdownControl.onShutdown(async () => {
      stopping = true;
      await jobs.stop();
      await container.close();
      logger.info("stopped");
    });
    await jobs.started;
    logger.info({ concurrency, jobs: jobRegistry.map((job) => job.name) }, "ready");
    await tellPrimary({ type: "ready" });
  } catch (error) {
    // Asked to stop while waiting for the database: the shutdown in progress ends the process.
    if (!stopping) await failBoot(logger, error);
  }
}

await startBackgroundWorker();
