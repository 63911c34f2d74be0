import pg from "pg";
import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import { runMigrations as installQueueSchema } from "graphile-worker";
import { MIGRATIONS_DIR } from "../../paths.ts";

/** Any constant shared by every process: who holds it applies migrations, the others wait. */
const MIGRATION_LOCK_KEY = 726_354_102;

/**
 * Applies the schema migrations and installs the job queue's schema, once, under
 * a Postgres advisory lock, so that concurrent starters (several instances, or
 * roles started separately) never apply them twice.
 */
export async function prepareDatabase(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, application_name: "migrations" });
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

export interface ServerLimits {
  maxConnections: number;
  superuserReserved: number;
}

export async function readServerLimits(url: string): Promise<ServerLimits> {
  const client = new pg.Client({ connectionString: url, application_name: "capacity-check" });
  await client.connect();
  try {
    const { rows } = await client.query<{ max: string; reserved: string }>(
      "select current_setting('max_connections') as max, current_setting('superuser_reserved_connections') as reserved",
    );
    const row = rows[0];
    if (!row) throw new Error("the database did not report max_connections");
    return { maxConnections: Number(row.max), superuserReserved: Number(row.reserved) };
  } finally {
    await client.end();
  }
}
