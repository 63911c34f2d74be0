import type http from "node:http";
import type { Logger } from "pino";
import { loadConfig, type AppEnv } from "../config/env.ts";
import { drainHttpServer, type DrainOptions } from "./http-server.ts";
import { isPrimaryMessage, type ChildMessage, type PrimaryMessage, type ShutdownReason } from "./messages.ts";
import { metricsRegistry } from "../infra/metrics.ts";
import type { MetricsSource } from "../infra/instance-metrics.ts";
import { AppError } from "../core/app-error.ts";

/**
 * What web and background workers share about their own life: telling the
 * primary they are ready or could not start, and turning every way of being
 * asked to stop (the primary's message, the primary vanishing, SIGTERM or SIGINT
 * when running alone) into one graceful shutdown that runs once.
 */

export function tellPrimary(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(message, () => resolve());
  });
}

export interface ShutdownControl {
  /** Installs the graceful shutdown once the process serves; a stop asked for before then exits at once. */
  onShutdown(shutdown: (reason: ShutdownReason) => Promise<void>): void;
}

/**
 * Listens for stop requests from the very start of the process: a child asked to
 * stop while it is still booting must not lose the request and go on to serve.
 */
export function listenForShutdown(logger: Logger): ShutdownControl {
  let shutdown: ((reason: ShutdownReason) => Promise<void>) | undefined;
  let started = false;
  const run = (reason: ShutdownReason, cause: string) => {
    if (started) return;
    started = true;
    logger.info({ cause }, "shutting down");
    if (!shutdown) process.exit(0);
    shutdown(reason).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals) => {
    // Under a primary, the primary alone decides. A terminal's Ctrl-C, or a service manager stopping a whole control
    // group, signals every process at once; the primary then stops the children in order, and Postgres after them.
    if (process.connected) logger.info({ signal }, "signal ignored: the primary orders the stop");
    else run("stop", signal);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  process.on("message", (message) => {
    if (isPrimaryMessage(message) && message.type === "shutdown") run(message.reason, `primary: ${message.reason}`);
  });
  // The primary died without telling us (SIGKILL): stop rather than live on as an orphan.
  process.on("disconnect", () => run("stop", "primary disconnected"));
  return {
    onShutdown(handler) {
      shutdown = handler;
    },
  };
}

/** The primary gathers every child's metrics for the instance's: answered from the start, whatever the process is doing. */
export function answerMetricsRequests(role: string): void {
  process.on("message", (message) => {
    if (!isPrimaryMessage(message) || message.type !== "collect-metrics") return;
    void metricsRegistry.getMetricsAsJSON().then((metrics) => tellPrimary({ type: "collected-metrics", id: message.id, role, metrics }));
  });
}

/** The primary gives up on a child after 1.5 s; this leaves it time to answer with the others. */
const INSTANCE_METRICS_TIMEOUT_MS = 2_000;
let nextMetricsRequest = 0;

const metricsUnavailable = (why: string) =>
  new AppError("unavailable", `the instance's metrics are unavailable: ${why}`, { retryAfterS: 1 });

function askPrimaryForMetrics(want: "text" | "status"): Promise<Extract<PrimaryMessage, { type: "instance-metrics" }>> {
  const id = nextMetricsRequest++;
  return new Promise((resolve, reject) => {
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      process.off("message", onMessage);
      settle();
    };
    const onMessage = (message: unknown) => {
      if (!isPrimaryMessage(message) || message.type !== "instance-metrics" || message.id !== id) return;
      finish(() => (message.error === undefined ? resolve(message) : reject(metricsUnavailable(message.error))));
    };
    const timer = setTimeout(
      () => finish(() => reject(metricsUnavailable(`no answer from the primary within ${INSTANCE_METRICS_TIMEOUT_MS} ms`))),
      INSTANCE_METRICS_TIMEOUT_MS,
    );
    process.on("message", onMessage);
    if (!process.send || !process.connected) return finish(() => reject(metricsUnavailable("no primary")));
    process.send({ type: "instance-metrics", id, want } satisfies ChildMessage, (error: Error | null) => {
      if (error) finish(() => reject(metricsUnavailable(error.message)));
    });
  });
}

/** The instance's metrics for a web worker under a primary, which aggregates every process of the instance. */
export function primaryMetrics(): MetricsSource {
  return {
    text: async () => (await askPrimaryForMetrics("text")).text ?? "",
    status: async () => {
      const { status } = await askPrimaryForMetrics("status");
      if (!status) throw metricsUnavailable("the primary sent no status");
      return status;
    },
  };
}

/**
 * Resolves once the primary will hand this web worker no more connections; call it after closing the listening socket.
 * Node's round-robin primary may send a connection to a worker just before it reads that the worker's server closed.
 * Node makes the worker refuse it, and the primary then hands it to another worker, but only if the worker is still
 * there to read it: a worker that exits first never answers, and the primary keeps the socket open with nobody serving
 * it, so that client waits until its own timeout. The IPC channel keeps messages in order both ways: the primary reads
 * this request after the close of the server, so its answer comes after every connection it sent before.
 */
function primaryStoppedRouting(): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    const done = () => {
      process.off("message", onMessage);
      process.off("disconnect", done);
      resolve();
    };
    const onMessage = (message: unknown) => {
      if (isPrimaryMessage(message) && message.type === "routing-stopped") done();
    };
    process.on("message", onMessage);
    // A primary that is gone hands out nothing any more.
    process.on("disconnect", done);
    process.send({ type: "stopped-accepting" } satisfies ChildMessage, (error: Error | null) => {
      if (error) done();
    });
  });
}

/**
 * The end of a web worker's service: stops accepting, and resolves once the requests in flight are answered (or cut at
 * the deadline) and the primary has confirmed it hands this worker no more connections.
 */
export async function stopServing(server: http.Server, drain: DrainOptions): Promise<void> {
  // Draining closes the listening socket at once; the primary's confirmation may arrive while requests finish.
  await Promise.all([drainHttpServer(server, drain), primaryStoppedRouting()]);
}

/** A child that cannot start says why before exiting, so the primary can name the cause. */
export async function failBoot(logger: Logger, error: unknown): Promise<never> {
  const message = error instanceof Error ? error.message : String(error);
  logger.fatal({ err: error }, "could not start");
  await tellPrimary({ type: "boot-failed", message });
  process.exit(1);
}

/** Errors nobody awaited are logged; the process keeps serving rather than dropping every request in flight. */
export function logStrayErrors(logger: Logger): void {
  process.on("unhandledRejection", (reason) => logger.error({ err: reason }, "unhandled promise rejection"));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A wrong variable stops the start with one clear line naming it, not a stack trace. */
export function loadConfigOrExit(): AppEnv {
  try {
    return loadConfig();
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
