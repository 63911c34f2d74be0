import pg from "pg";
import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import { runMigrations as installQueueSchema } from "graphile-worker";
import { MIGRATIONS_DIR } from "../../paths.ts";
import { sessionTimeouts } from "./pool.ts";
import type { AppEnv } from "../../config/env.ts";

/** Any constant shared by every process: who holds it applies migrations, the others wait. */
const MIGRATION_LOCK_KEY = 726_354_102;
const CONNECT_TIMEOUT_MS = 5_000;

/** What of the configuration matters here: whether the web workers go through a pooler, and their statement timeout. */
export type PrepareConfig = Pick<AppEnv, "database" | "plan">;

/**
 * Applies the schema migrations and installs the job queue's schema, once, under
 * a Postgres advisory lock, so that concurrent starters (several instances, or
 * roles started separately) never apply them twice. Runs on the direct URL: a
 * session's advisory lock means nothing through a pooler in transaction mode.
 */
export async function prepareDatabase(url: string, config?: PrepareConfig): Promise<void> {
  // A database that accepts the connection and never answers (packets dropped) fails the attempt rather than hanging it.
  // No statement timeout: a migration may rewrite a large table, and the role's default may be a short one.
  const client = new pg.Client({
    connectionString: url,
    application_name: "migrations",
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    statement_timeout: 0,
  });
  await client.connect();
  try {
    await client.query("select pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    await migrate(drizzle({ client }), { migrationsFolder: MIGRATIONS_DIR });
    await installQueueSchema({ connectionString: url });
    // Behind a pooler the web workers' connections cannot set their statement timeout themselves.
    if (config?.database.behindPooler) await setRoleTimeouts(client, config.plan.dbStatementTimeoutMs);
  } finally {
    await client.query("select pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await client.end();
  }
}

/**
 * The timeouts as defaults of the connecting role in this database: every new server connection a pooler opens for
 * that role starts with them (connections already open keep the previous ones until the pooler recycles them).
 * Connections that set their own (startup parameters on the direct URL) keep theirs.
 */
async function setRoleTimeouts(client: pg.Client, statementTimeoutMs: number): Promise<void> {
  const database = client.escapeIdentifier(client.database ?? "");
  for (const [name, value] of Object.entries(sessionTimeouts(statementTimeoutMs))) {
    await client.query(`alter role current_user in database ${database} set ${name} = ${Number(value)}`);
  }
}
