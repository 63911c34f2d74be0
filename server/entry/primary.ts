import { childEnvironment, commandLineRole, loadConfig, setEnvironment, type AppEnv } from "../config/env.ts";
import { missingDevSecrets } from "../config/dev-secrets.ts";
import { checkBudgetAgainstServer } from "../config/capacity.ts";
import { createLogger, describeDatabaseUrl, type Logger } from "../infra/logger.ts";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "../infra/db/embedded.ts";
import { prepareDatabase, readServerLimits } from "../infra/db/migrate.ts";
import { seedDemoOnce, type DemoLogin } from "../infra/db/demo-seed.ts";
import { Supervisor, type ChildRole } from "./supervisor.ts";
import { loadConfigOrExit } from "./child-process.ts";
import { siblingEntry } from "../paths.ts";

/**
 * The primary process. It loads no application code: it checks the
 * configuration and the capacity plan, owns the embedded Postgres when there is
 * no DATABASE_URL, applies migrations once, then supervises the children.
 * `--role=web` or `--role=worker` runs one role alone, without a primary.
 */

const entryFile = (role: ChildRole) => siblingEntry(import.meta.url, role);

/** Time children get to drain beyond their own deadline before they are killed. */
const STOP_MARGIN_MS = 5_000;

async function runRoleAlone(role: ChildRole, config: AppEnv): Promise<void> {
  if (!config.database.url) {
    process.stderr.write(`--role=${role} needs DATABASE_URL: the embedded Postgres is run only by the primary\n`);
    process.exit(1);
  }
  // Safe from every instance at once: migrations run under an advisory lock.
  await prepareDatabase(config.database.directUrl ?? config.database.url);
  await import(entryFile(role));
}

interface DatabaseSetup {
  url: string;
  embedded: EmbeddedDatabase | undefined;
}

async function setUpDatabase(config: AppEnv, logger: Logger): Promise<DatabaseSetup> {
  const embedded = config.database.url ? undefined : await startEmbeddedPostgres(config.database.embeddedDir, logger);
  const url = config.database.url ?? embedded!.url;
  const directUrl = config.database.directUrl ?? url;
  try {
    const limits = await readServerLimits(directUrl);
    checkBudgetAgainstServer(config.plan, limits.maxConnections, limits.superuserReserved);
    await prepareDatabase(directUrl);
    logger.info(
      { database: describeDatabaseUrl(url), embedded: Boolean(embedded), maxConnections: limits.maxConnections },
      "database ready",
    );
    return { url, embedded };
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
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
  logPlan(config, logger);
  const database = await setUpDatabase(config, logger);
  if (database.embedded) announceDemo(await seedDemoOnce(database.url, config.dataDir, logger), config);
  const resolved: Record<string, string> = { DATABASE_URL: database.url };

  let stopping: Promise<void> | undefined;
  const stopAll = (exitCode: number) => {
    stopping ??= (async () => {
      await supervisor.stop(config.shutdown.drainDelayMs + config.shutdown.timeoutMs + STOP_MARGIN_MS);
      await database.embedded?.stop();
      logger.info({ exitCode }, "primary stopped");
      process.exit(exitCode);
    })();
  };
  const supervisor = new Supervisor({
    logger,
    webWorkers: config.plan.webWorkers,
    entryFile,
    env: childEnvironment(resolved),
    onGiveUp: (reason) => {
      logger.fatal({ reason }, "giving up");
      process.stderr.write(`Stopping: ${reason}\n`);
      stopAll(1);
    },
  });

  process.on("SIGTERM", () => stopAll(0));
  process.on("SIGINT", () => stopAll(0));
  process.on("SIGHUP", () => void supervisor.reload());
  supervisor.start();
  logger.info({ port: config.port, url: config.appUrl }, "primary started");
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
