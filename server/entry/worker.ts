import { buildContainer } from "../container.ts";
import { createLogger } from "../infra/logger.ts";
import { startJobRunner } from "../jobs/runner.ts";
import { jobRegistry } from "../jobs/registry.ts";
import { failBoot, listenForShutdown, loadConfigOrExit, logStrayErrors, tellPrimary } from "./child-process.ts";

/**
 * The background worker: runs the job queue (emails, Stripe events, periodic
 * cleanups) outside the request path. Forked by the primary, or alone with `--role=worker`.
 */
async function startBackgroundWorker(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger({ level: config.logLevel, role: "worker" });
  logStrayErrors(logger);
  const shutdownControl = listenForShutdown(logger);
  try {
    const container = await buildContainer(config, "worker", logger);
    // One connection is the queue's LISTEN; the rest run jobs.
    const concurrency = config.queueConcurrency ?? Math.max(1, config.plan.poolMaxPerProcess - 1);
    const runner = await startJobRunner({
      pool: container.pool,
      concurrency,
      jobs: jobRegistry,
      context: { db: container.db, logger },
    });
    shutdownControl.onShutdown(async () => {
      // Jobs in progress finish; jobs not yet started stay in Postgres for the next worker.
      await runner.stop();
      await container.close();
      logger.info("stopped");
    });
    // The runner stopping on its own (its database connection lost for good) ends the process; the primary restarts it.
    runner.promise.catch((error: unknown) => {
      logger.fatal({ err: error }, "job runner stopped");
      process.exit(1);
    });
    logger.info({ concurrency, jobs: jobRegistry.map((job) => job.name) }, "ready");
    await tellPrimary({ type: "ready" });
  } catch (error) {
    await failBoot(logger, error);
  }
}

await startBackgroundWorker();
