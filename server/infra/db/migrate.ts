import pg from "pg";
import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import { runMigrations as installQueueSchema } from "graphile-worker";
import { MIGRATIONS_DIR } from "../../paths.ts";

/** Any constant shared by every process: who holds it applies migrations, the others wait. */
const MIGRATION_LOCK_KEY = 726_354_102;
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * Applies the schema migrations and installs the job queue's schema, once, under
 * a Postgres advisory lock, so that concurrent starters (several instances, or
 * roles started separately) never apply them twice.
 */
export async function prepareDatabase(url: string): Promise<void> {
  // A database that accepts the connection and never answers (packets dropped) fails the attempt rather than hanging it.
  const client = new pg.Client({ connectionString: url, application_name: "migrations", connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  await client.connect();
  try {
    await client.query("select pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    await migrate(drizzle({ client }), { migrationsFolder: MIGRATIONS_DIR });
    await installQueueSchema({ connectionString: url });
  } finally {
    await client.query("select pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await client.end();
  }
}
