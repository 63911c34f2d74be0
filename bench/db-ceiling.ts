// The database ceiling of a scenario: the product's own repository calls for one request, run straight on a `pg` pool
// through drizzle (so literally the SQL the product issues, without HTTP, sessions or Express in between), as many at
// once as the load has connections, for as long as the load runs. Product req/s over this is how close the product
// comes to what the database alone allows on this machine.
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { pino } from "pino";
import { createDatabase, type Database } from "../server/infra/db/client.ts";
import { createPool } from "../server/infra/db/pool.ts";
import { addLatency, percentile, type LatencyBuckets } from "./latency.ts";

/** One request's database work, made of the repository calls the route's service makes. */
export interface DbWork {
  /** The calls, for the notes: e.g. "findSessionUser + findWithRole + membersPage". */
  calls: string;
  /** The i-th request's work (i counts from 0 across the whole run, so one-time rows can be taken in turn). */
  run: (db: Database, i: number) => Promise<void>;
}

export interface DbCeilingOptions {
  databaseUrl: string;
  /** Loops running the work at once (the load's connections). */
  concurrency: number;
  /** The product's pools together: its web workers × pool max per process. */
  poolMax: number;
  statementTimeoutMs: number;
  durationS: number;
  warmupS: number;
}

export interface DbCeilingResult {
  requests: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

/**
 * Requests sent one at a time to count their Postgres transactions (every statement outside a transaction is one):
 * how many round trips a request costs, the product's and its ceiling's alike. The ceiling's loops take the rows
 * after these.
 */
export const PROBE_CALLS = 300;

/** Runs `work` from `concurrency` loops for `durationS` after an unmeasured warm-up. */
export async function measureDbCeiling(work: DbWork, options: DbCeilingOptions): Promise<DbCeilingResult> {
  return withDatabase(options, options.poolMax, async (db) => {
    let next = PROBE_CALLS;
    const loop = async (until: number, buckets: LatencyBuckets, errors: { n: number }) => {
      while (performance.now() < until) {
        const started = performance.now();
        try {
          await work.run(db, next++);
          addLatency(buckets, performance.now() - started);
        } catch {
          errors.n += 1;
        }
      }
    };
    const run = async (seconds: number) => {
      const buckets: LatencyBuckets = {};
      const errors = { n: 0 };
      const until = performance.now() + seconds * 1000;
      await Promise.all(Array.from({ length: options.concurrency }, () => loop(until, buckets, errors)));
      return { buckets, errors: errors.n };
    };
    if (options.warmupS > 0) await run(options.warmupS);
    const started = performance.now();
    const { buckets, errors } = await run(options.durationS);
    const requests = Object.values(buckets).reduce((sum, n) => sum + n, 0);
    return {
      requests,
      reqPerSec: requests / ((performance.now() - started) / 1000),
      p50Ms: percentile(buckets, 50) ?? 0,
      p99Ms: percentile(buckets, 99) ?? 0,
      errors,
    };
  });
}

/** `use` with a drizzle database over a `pg` pool of `max` connections, ended afterwards. */
async function withDatabase<T>(
  options: Pick<DbCeilingOptions, "databaseUrl" | "statementTimeoutMs">,
  max: number,
  use: (db: Database) => Promise<T>,
): Promise<T> {
  const pool = await createPool(
    {
      url: options.databaseUrl,
      driver: "pg",
      max,
      min: 0,
      statementTimeoutMs: options.statementTimeoutMs,
      applicationName: "bench-db-ceiling",
    },
    pino({ level: "warn" }),
  );
  try {
    return await use(await createDatabase(pool, "pg"));
  } finally {
    await pool.end();
  }
}

/**
 * An idle backend publishes its counts up to 10 s after its last statement (Postgres 15's PGSTAT_IDLE_INTERVAL), one
 * that ends at once. So the product's requests are counted once its backends have been idle that long, and before
 * they were idle that long already (the product is idle while the baseline is measured).
 */
const IDLE_FLUSH_MS = 11_000;
/**
 * The product has transactions of its own while no request comes: each process's breaker checks the database twice a
 * second, the background worker polls the queue. Their rate, measured this long before the requests, is taken off.
 */
const BACKGROUND_WINDOW_MS = 8_000;

/** Transactions per request of the product: `send` (one HTTP request) PROBE_CALLS times, one after the other. */
export async function productTransactions(databaseUrl: string, send: () => Promise<unknown>): Promise<number> {
  const idle = await transactionsDuring(databaseUrl, () => sleep(BACKGROUND_WINDOW_MS));
  const probed = await transactionsDuring(databaseUrl, async () => {
    for (let i = 0; i < PROBE_CALLS; i++) await send();
    await sleep(IDLE_FLUSH_MS);
  });
  const background = (idle.transactions / idle.elapsedMs) * probed.elapsedMs;
  return Math.max(0, probed.transactions - background) / PROBE_CALLS;
}

async function transactionsDuring(databaseUrl: string, during: () => Promise<void>): Promise<{ transactions: number; elapsedMs: number }> {
  const before = await transactionCount(databaseUrl);
  const started = performance.now();
  await during();
  const elapsedMs = performance.now() - started;
  return { transactions: (await transactionCount(databaseUrl)) - before, elapsedMs };
}

/** Transactions per request of the ceiling: its work PROBE_CALLS times on a connection of its own, closed before counting. */
export async function ceilingTransactions(
  work: DbWork,
  options: Pick<DbCeilingOptions, "databaseUrl" | "statementTimeoutMs">,
): Promise<number> {
  const before = await transactionCount(options.databaseUrl);
  await withDatabase(options, 1, async (db) => {
    for (let i = 0; i < PROBE_CALLS; i++) await work.run(db, i);
  });
  // A backend publishes its counts as it exits; the pause covers the exit itself.
  await sleep(500);
  return ((await transactionCount(options.databaseUrl)) - before) / PROBE_CALLS;
}

/** Transactions committed and rolled back in the database so far, as published by its backends. */
async function transactionCount(databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(
      "select xact_commit + xact_rollback as n from pg_stat_database where datname = current_database()",
    );
    return Number(rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}
