import { spawn } from "node:child_process";
import { chmod, chown, writeFile } from "node:fs/promises";
import path from "node:path";
import readline from "node:readline";
import { freePort } from "../../server/infra/free-port.ts";
import { idsOf, programPath, stopper, unprivilegedUser, untilListening } from "./programs.ts";

/**
 * Debian's PgBouncer in transaction mode, as Neon's pooled endpoint and most managed poolers run it: a server
 * connection belongs to a client for one transaction only, so nothing of a session (SET, advisory locks, LISTEN,
 * named prepared statements) survives from one transaction to the next (docs/operations.md, Behind a pooler).
 */
export interface PgBouncer {
  /** postgres://user@127.0.0.1:port/ (no database: PgBouncer relays any name to the server's database of that name). */
  readonly url: string;
  readonly port: number;
  /** SIGTERM (PgBouncer's immediate shutdown: every client connection drops), then the same configuration again. */
  restart(downForMs: number): Promise<void>;
  stop(): Promise<void>;
}

export interface PgBouncerOptions {
  folder: string;
  /** The Postgres server behind it, with the user (and password) PgBouncer logs in as. */
  postgres: URL;
  onLine: (line: string) => void;
}

/** The settings that matter, each with why; the rest are PgBouncer's defaults. */
const SETTINGS = {
  pool_mode: "transaction",
  // Client connections: every web worker's pool of every instance, with room to spare.
  max_client_conn: 1000,
  // Server connections per database and user: what Postgres sees of all the web workers together.
  default_pool_size: 20,
  // A client waits this long (s) for a server connection before PgBouncer fails its query, under the pool's 5 s wait.
  query_wait_timeout: 10,
  // After a failed login to Postgres (Postgres down), try again after 1 s rather than 15.
  server_login_retry: 1,
  server_connect_timeout: 3,
  log_connections: 0,
  log_disconnections: 0,
} as const;

export async function startPgBouncer({ folder, postgres, onLine }: PgBouncerOptions): Promise<PgBouncer> {
  const binary = programPath("pgbouncer");
  if (!binary) throw new Error("pgbouncer is not installed (apt-get install pgbouncer)");
  const port = await freePort();
  const configFile = await writeConfig(folder, port, postgres);
  let stop = await launch(binary, configFile, port, onLine);
  return {
    url: `postgres://${postgres.username}@127.0.0.1:${port}/`,
    port,
    async restart(downForMs) {
      await stop();
      await new Promise((resolve) => setTimeout(resolve, downForMs));
      stop = await launch(binary, configFile, port, onLine);
    },
    stop: () => stop(),
  };
}

async function writeConfig(folder: string, port: number, postgres: URL): Promise<string> {
  const usersFile = path.join(folder, "pgbouncer-users.txt");
  const configFile = path.join(folder, "pgbouncer.ini");
  const settings = Object.entries(SETTINGS).map(([name, value]) => `${name} = ${value}`);
  const config = [
    "[databases]",
    `* = host=${postgres.hostname} port=${postgres.port || 5432}`,
    "[pgbouncer]",
    "listen_addr = 127.0.0.1",
    `listen_port = ${port}`,
    "unix_socket_dir =",
    "auth_type = trust",
    `auth_file = ${usersFile}`,
    ...settings,
  ];
  // Clients connect without a password (trust, on loopback); PgBouncer logs into Postgres with the URL's, if it has one
  // (an embedded Postgres does).
  await writeFile(usersFile, `"${decodeURIComponent(postgres.username)}" "${decodeURIComponent(postgres.password)}"\n`);
  await writeFile(configFile, `${config.join("\n")}\n`);
  // Started by root, PgBouncer runs as another user, who must enter the folder and read the configuration.
  await Promise.all([chmod(folder, 0o755), chmod(usersFile, 0o600), chmod(configFile, 0o644)]);
  // The users file may hold a password: readable by PgBouncer's user alone.
  const user = unprivilegedUser();
  if (user) {
    const { uid, gid } = idsOf(user);
    await chown(usersFile, uid, gid);
  }
  return configFile;
}

/** Starts PgBouncer and resolves, once it listens, with what stops it. */
async function launch(binary: string, configFile: string, port: number, onLine: (line: string) => void): Promise<() => Promise<void>> {
  const user = unprivilegedUser();
  const child = spawn(binary, [...(user ? ["-u", user] : []), configFile], { stdio: ["ignore", "pipe", "pipe"] });
  for (const stream of [child.stdout, child.stderr]) readline.createInterface({ input: stream }).on("line", onLine);
  const stop = stopper(child, "SIGTERM");
  await untilListening(child, port, "pgbouncer");
  return stop;
}
