import { buildContainer } from "../container.ts";
import { createApp } from "../app.ts";
import { createLogger } from "../infra/logger.ts";
import { createHttpServer, listen } from "./http-server.ts";
import {
  answerMetricsRequests,
  failBoot,
  listenForShutdown,
  loadConfigOrExit,
  logStrayErrors,
  sleep,
  stopServing,
  tellPrimary,
} from "./child-process.ts";

/**
 * A web worker: the Express API on the shared port. Forked by the primary, or
 * run alone with `--role=web`.
 */
async function startWebWorker(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger({ level: config.logLevel, role: "web" });
  logStrayErrors(logger);
  const shutdownControl = listenForShutdown(logger);
  answerMetricsRequests("web");
  try {
    const container = await buildContainer(config, "web", logger);
    const server = createHttpServer(createApp(container), config, logger);
    shutdownControl.onShutdown(async (reason) => {
      container.health.markDraining();
      // Give load balancers time to see readiness turn 503; a reload needs none, the primary stops routing at once.
      if (reason === "stop") await sleep(config.shutdown.drainDelayMs);
      // Without a drain delay no load balancer hands this server's clients to another one: idle connections may go at once.
      const closeIdleAtOnce = reason === "stop" && config.shutdown.drainDelayMs === 0;
      await stopServing(server, { deadlineMs: config.shutdown.timeoutMs, closeIdleAtOnce });
      await container.close();
      logger.info("stopped");
    });
    await listen(server, config.port);
    container.health.markReady();
    logger.info({ port: config.port, poolMax: config.plan.poolMaxPerProcess }, "ready");
    await tellPrimary({ type: "ready" });
  } catch (error) {
    await failBoot(logger, error);
  }
}

await startWebWorker();
