// Where the benchmarked product keeps its data: DATABASE_URL / REDIS_URL when
// set, else the local services when they answer (a database of this run's own,
// named uniquely and dropped at the end, so figures do not drift with leftover
// rows and two benches on one server never touch each other's data), else the
// product's own defaults (embedded Postgres, local mode).
import { randomBytes } from "node:crypto";
import pg from "pg";
import { answers, withDatabase } from "../server/test/services.ts";

export interface BenchServices {
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  /** Drops what the run created (its own database); nothing when the services were given. */
  release(): Promise<void>;
}

const LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres";

async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A new database on the server of `adminUrl`, named for this run alone; `release` drops it. */
export async function ownDatabase(adminUrl: string): Promise<{ url: string; release(): Promise<void> }> {
  const name = `community_bench_${Date.now()}_${randomBytes(3).toString("hex")}`;
  await adminQuery(adminUrl, `create database ${name}`);
  return { url: withDatabase(adminUrl, name), release: () => adminQuery(adminUrl, `drop database if exists ${name} with (force)`) };
}

export async function resolveBenchServices(): Promise<BenchServices> {
  const given = process.env.DATABASE_URL || undefined;
  const own = !given && (await answers("127.0.0.1", 5432)) ? await ownDatabase(LOCAL_POSTGRES) : undefined;
  const redisUrl = process.env.REDIS_URL || ((await answers("127.0.0.1", 6379)) ? "redis://127.0.0.1:6379" : undefined);
  return { databaseUrl: given ?? own?.url, redisUrl, release: async () => own?.release() };
}
