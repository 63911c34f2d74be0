import { fork } from "node:child_process";
import { childEnvironment, commandLineRole, loadConfig, setEnvironment, type AppEnv } from "../config/env.ts";
import { missingDevSecrets } from "../config/dev-secrets.ts";
import { checkBudgetAgainstServer } from "../config/capacity.ts";
import { createLogger, describeDatabaseUrl, type Logger } from "../infra/logger.ts";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "../infra/db/embedded.ts";
import type { DemoLogin } from "../infra/db/demo-seed.ts";
import { Supervisor, type ChildRole } from "./supervisor.ts";
import { loadConfigOrExit } from "./child-process.ts";
import { readServerLimits, untilReachable, waitForDatabase } from "../infra/dependencies.ts";
import { isPrepareReply, type PrepareReply, type PrepareRequest } from "./messages.ts";
import { siblingEntry } from "../paths.ts";
import { serveInstanceMetrics } from "./cluster-metrics.ts";

/**
 * The primary process. It loads no application code: it checks the
 * configuration and the capacity plan, owns the embedded Postgres when there is
 * no DATABASE_URL, waits for the database, has a short-lived child apply the
 * migrations (and seed the demo), then supervises the children.
 * `--role=web` or `--role=worker` runs one role alone, without a primary.
 */

const entryFile = (role: ChildRole | "prepare") => siblingEntry(import.meta.url, role);

/** Time children get to drain beyond their own deadline before they are killed. */
const STOP_MARGIN_MS = 5_000;

/**
 * One role without a primary, for platforms that run each in processes of their own (Procfile, Kubernetes): `web` or
 * `worker` migrates (safe from every instance at once: under an advisory lock) and serves; `migrate` migrates and exits,
 * for a release phase or a migration job.
 */
async function runRoleAlone(role: ChildRole | "migrate", config: AppEnv): Promise<void> {
  const { url, directUrl } = config.database;
  if (!url || !directUrl) {
    process.stderr.write(`--role=${role} needs DATABASE_URL: the embedded Postgres is run only by the primary\n`);
    process.exit(1);
  }
  const logger = createLogger({ level: config.logLevel, role });
  await waitForDatabase(directUrl, logger);
  // Loaded here only, not by the primary.
  const { prepareDatabase } = await import("../infra/db/migrate.ts");
  await prepareDatabase(directUrl, config);
  if (role === "migrate") {
    logger.info("database migrated");
    return;
  }
  await import(entryFile(role));
}

/** What the primary started and must stop, in this order, whenever it is asked to (even halfway through its start). */
interface Owned {
  embedded?: Promise<EmbeddedDatabase>;
  preparation?: { stop(): Promise<void> };
  supervisor?: Supervisor;
}

async function setUpDatabase(config: AppEnv, logger: Logger, owned: Owned, signal: AbortSignal): Promise<string> {
  if (!config.database.url) owned.embedded = startEmbeddedPostgres(config.database.embeddedDir, logger);
  const url = config.database.url ?? (await owned.embedded!).url;
  const directUrl = config.database.directUrl ?? url;
  // Waiting for the database is waiting for its answer to this first question.
  const limits = await untilReachable(() => readServerLimits(directUrl), { dependency: "database", logger, signal });
  checkBudgetAgainstServer(config.plan, limits.maxConnections, limits.superuserReserved);
  const demoLogin = await prepareInChild({ type: "prepare", seedDemo: owned.embedded !== undefined }, { DATABASE_URL: url }, owned);
  logger.info(
    { database: describeDatabaseUrl(url), embedded: owned.embedded !== undefined, maxConnections: limits.maxConnections },
    "database ready",
  );
  if (demoLogin) announceDemo(demoLogin, config);
  return url;
}

/**
 * Migrations and the demo seed run in a short-lived child (prepare.ts), so that the primary loads neither the
 * schema nor the ORM nor argon2. Resolves with the demo login when one was asked for.
 */
function prepareInChild(request: PrepareRequest, resolved: Record<string, string>, owned: Owned): Promise<DemoLogin | undefined> {
  const child = fork(entryFile("prepare"), [], { env: childEnvironment(resolved) });
  // "close" also comes after a failed spawn, which "exit" may not.
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  owned.preparation = {
    async stop() {
      child.kill("SIGTERM");
      await exited;
    },
  };
  let reply: PrepareReply | undefined;
  child.on("message", (message: unknown) => {
    if (isPrepareReply(message)) reply = message;
  });
  // A child that dies before reading the request is reported by its exit below.
  child.send(request, () => undefined);
  return exited.then(() => {
    if (reply?.type === "prepared") return reply.demoLogin;
    throw new Error(reply?.message ?? "the database preparation stopped before it finished");
  });
}

function logPlan(config: AppEnv, logger: Logger): void {
  const { plan } = config;
  logger.info(
    {
      tier: plan.tier,
      webWorkers: plan.webWorkers,
      poolMaxPerProcess: plan.poolMaxPerProcess,
      poolConnectionsTotal: plan.poolConnectionsTotal,
      dbConnectionBudget: plan.dbConnectionBudget,
    },
    "capacity plan",
  );
  logger.info(
    config.redisUrl
      ? { mode: "redis", sessions: "redis" }
      : { mode: "local", sessions: "postgres", note: "no REDIS_URL: sessions in Postgres, cache per worker" },
    config.redisUrl ? "redis mode" : "local mode (no REDIS_URL)",
  );
}

/** The demo's credentials go to the terminal, not into the JSON log: log lines never carry passwords. */
function announceDemo(login: DemoLogin, config: AppEnv): void {
  process.stdout.write(`\nDemo data is loaded. Sign in at ${config.appUrl} as ${login.email} with password ${login.password}\n\n`);
}

async function runPrimary(config: AppEnv): Promise<void> {
  const logger = createLogger({ level: config.logLevel, role: "primary" });
  const owned: Owned = {};
  const stopRequested = new AbortController();
  let stopping: Promise<void> | undefined;
  // Installed before anything starts: a signal during the start (waiting for the database, say) stops what exists.
  const stopAll = (exitCode: number) => {
    stopRequested.abort();
    stopping ??= (async () => {
      await owned.preparation?.stop();
      await owned.supervisor?.stop(config.shutdown.drainDelayMs + config.shutdown.timeoutMs + STOP_MARGIN_MS);
      await owned.embedded?.then((embedded) => embedded.stop()).catch(() => undefined);
      logger.info({ exitCode }, "primary stopped");
      process.exit(exitCode);
    })();
  };
  process.on("SIGTERM", () => stopAll(0));
  process.on("SIGINT", () => stopAll(0));
  // Before the workers exist there is nothing to reload; SIGHUP's default would end the primary.
  process.on("SIGHUP", () => void owned.supervisor?.reload());

  logPlan(config, logger);
  try {
    const url = await setUpDatabase(config, logger, owned, stopRequested.signal);
    if (stopRequested.signal.aborted) return;
    if (!config.redisUrl) await countRateLimitsHere();
    owned.supervisor = startSupervisor(config, logger, url, stopAll);
  } catch (error) {
    if (stopRequested.signal.aborted) return;
    process.stderr.write(`Could not start: ${error instanceof Error ? error.message : String(error)}\n`);
    logger.fatal({ err: error }, "could not start");
    stopAll(1);
  }
}

/**
 * Local mode: the web workers' rate-limit counters live in this process, so that a limit holds across all of them. Set
 * up before the first fork (a worker's limiters introduce themselves once, at start); loaded only then.
 */
async function countRateLimitsHere(): Promise<void> {
  const { RateLimiterClusterMaster } = await import("rate-limiter-flexible");
  // Listens to the workers' messages from its construction on; nothing else to hold.
  new RateLimiterClusterMaster();
}

function startSupervisor(config: AppEnv, logger: Logger, databaseUrl: string, stopAll: (exitCode: number) => void): Supervisor {
  const supervisor = new Supervisor({
    logger,
    webWorkers: config.plan.webWorkers,
    entryFile,
    env: childEnvironment({ DATABASE_URL: databaseUrl }),
    onGiveUp: (reason) => {
      logger.fatal({ reason }, "giving up");
      process.stderr.write(`Stopping: ${reason}\n`);
      stopAll(1);
    },
  });
  supervisor.start();
  serveInstanceMetrics(logger);
  logger.info({ port: config.port, url: config.appUrl }, "primary started");
  return supervisor;
}

/** Development secrets not set in the environment come from `.data/`, the same for every process. */
async function withDevSecrets(config: AppEnv): Promise<AppEnv> {
  const secrets = await missingDevSecrets(config, config.dataDir);
  if (Object.keys(secrets).length === 0) return config;
  setEnvironment(secrets);
  return loadConfig();
}

async function main(): Promise<void> {
  const config = await withDevSecrets(loadConfigOrExit());
  const role = commandLineRole();
  if (role) return runRoleAlone(role, config);
  return runPrimary(config);
}

main().catch((error: unknown) => {
  process.stderr.write(`Could not start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
