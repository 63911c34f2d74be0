// Where the benchmarked product keeps its data: DATABASE_URL / REDIS_URL when
// set, else the local services when they answer (a fresh `community_bench`
// database each run, so figures do not drift with leftover rows), else the
// product's own defaults (embedded Postgres, local mode).
import pg from "pg";
import { answers, withDatabase } from "../server/test/services.ts";

export interface BenchServices {
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
}

const LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres";
const BENCH_DATABASE = "community_bench";

async function freshLocalDatabase(): Promise<string> {
  const client = new pg.Client({ connectionString: LOCAL_POSTGRES });
  await client.connect();
  try {
    await client.query(`drop database if exists ${BENCH_DATABASE} with (force)`);
    await client.query(`create database ${BENCH_DATABASE}`);
  } finally {
    await client.end();
  }
  return withDatabase(LOCAL_POSTGRES, BENCH_DATABASE);
}

export async function resolveBenchServices(): Promise<BenchServices> {
  const databaseUrl = process.env.DATABASE_URL || ((await answers("127.0.0.1", 5432)) ? await freshLocalDatabase() : undefined);
  const redisUrl = process.env.REDIS_URL || ((await answers("127.0.0.1", 6379)) ? "redis://127.0.0.1:6379" : undefined);
  return { databaseUrl, redisUrl };
}
