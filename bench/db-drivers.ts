/**
 * Compares the `pg` Pool with the Neon serverless Pool (Postgres over a WebSocket)
 * on the same database, in one run, so the cost of the WebSocket transport shows
 * up as a ratio rather than as two numbers from different days.
 *
 * The Neon Pool goes through the local WebSocket-to-TCP proxy (standing in for
 * Neon's wsproxy), which runs in this process: its CPU cost is counted against
 * the Neon driver, whereas on Neon the proxy runs on Neon's side.
 *
 *   node --import tsx bench/db-drivers.ts        (DATABASE_URL, default local `test`)
 */
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { pino } from "pino";
import { createPool, type DbPool, type DriverName } from "../server/infra/db/pool.ts";
import { startNeonWsProxy } from "../server/test/neon-ws-proxy.ts";

export interface DriverResult {
  driver: DriverName;
  query: string;
  queries: number;
  queriesPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

export interface DbBenchOptions {
  /** Queries kept in flight at once; more than `poolMax`, so the pool queue is exercised too. */
  concurrency: number;
  durationMs: number;
  /** Unmeasured run first: opens every pool connection and warms the JIT and Postgres caches. */
  warmupMs: number;
  poolMax: number;
}

export const DEFAULT_DB_BENCH_OPTIONS: DbBenchOptions = {
  concurrency: 50,
  durationMs: 5_000,
  warmupMs: 1_000,
  poolMax: 10,
};

export const DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test";

interface BenchQuery {
  label: string;
  text: string;
  values: (i: number) => unknown[];
}

/** A round trip with a bound parameter, and one returning a few wide rows. */
const QUERIES: readonly BenchQuery[] = [
  { label: "select $1::int + 1", text: "select $1::int + 1 as n", values: (i) => [i] },
  { label: "pg_class limit 20", text: "select * from pg_class limit 20", values: () => [] },
];

interface Sample {
  latenciesMs: number[];
  errors: number;
  elapsedMs: number;
}

/** Measures both drivers on every query, alternating drivers per query so drift hits both alike. */
export async function benchDbDrivers(databaseUrl: string, options: DbBenchOptions = DEFAULT_DB_BENCH_OPTIONS): Promise<DriverResult[]> {
  const target = new URL(databaseUrl);
  const proxy = await startNeonWsProxy({
    targetHost: target.hostname.replace(/^\[|\]$/g, ""),
    targetPort: Number(target.port || 5432),
  });
  // The product's own pools, as the web workers build them.
  const poolFor = (driver: DriverName) =>
    createPool(
      {
        url: databaseUrl,
        driver,
        max: options.poolMax,
        min: 0,
        statementTimeoutMs: 10_000,
        applicationName: "bench",
        neonWsProxy: proxy.wsProxy,
      },
      pino({ level: "silent" }),
    );
  const pools: Record<DriverName, DbPool> = { pg: await poolFor("pg"), neon: await poolFor("neon") };
  try {
    const results: DriverResult[] = [];
    for (const query of QUERIES) {
      for (const driver of ["pg", "neon"] as const) {
        await runFor(pools[driver], query, options.concurrency, options.warmupMs);
        const sample = await runFor(pools[driver], query, options.concurrency, options.durationMs);
        results.push(summarize(driver, query.label, sample));
      }
    }
    return results;
  } finally {
    await Promise.allSettled([pools.pg.end(), pools.neon.end()]);
    await proxy.close();
  }
}

/** Closed loop: `concurrency` workers each issue the next query as soon as the previous one settles. */
async function runFor(pool: DbPool, query: BenchQuery, concurrency: number, durationMs: number): Promise<Sample> {
  const latenciesMs: number[] = [];
  let errors = 0;
  let issued = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const start = performance.now();
      try {
        await pool.query(query.text, query.values(issued++));
        latenciesMs.push(performance.now() - start);
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { latenciesMs, errors, elapsedMs: performance.now() - started };
}

function summarize(driver: DriverName, query: string, sample: Sample): DriverResult {
  const sorted = sample.latenciesMs.toSorted((a, b) => a - b);
  return {
    driver,
    query,
    queries: sorted.length,
    queriesPerSec: (sorted.length / sample.elapsedMs) * 1000,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    errors: sample.errors,
  };
}

/** Nearest-rank percentile of an ascending array; NaN when nothing succeeded. */
function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN;
}

/** Prints one row per driver and query; Neon rows carry the neon/pg ratios for that query. */
export function printDriverTable(results: readonly DriverResult[]): void {
  const header = ["query", "driver", "queries/s", "p50 ms", "p99 ms", "errors", "neon/pg q/s", "neon/pg p50"];
  const rows = results.map((result) => {
    const pgRow = results.find((other) => other.driver === "pg" && other.query === result.query);
    const showRatio = result.driver === "neon" && pgRow !== undefined;
    return [
      result.query,
      result.driver,
      fixed(result.queriesPerSec, 0),
      fixed(result.p50Ms, 2),
      fixed(result.p99Ms, 2),
      String(result.errors),
      showRatio ? ratio(result.queriesPerSec, pgRow.queriesPerSec) : "",
      showRatio ? ratio(result.p50Ms, pgRow.p50Ms) : "",
    ];
  });
  const widths = header.map((title, col) => Math.max(title.length, ...rows.map((row) => (row[col] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, col) => (col < 2 ? cell.padEnd(widths[col] ?? 0) : cell.padStart(widths[col] ?? 0))).join("  ");
  console.log([line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)].join("\n"));
}

function ratio(neon: number, pgValue: number): string {
  const value = neon / pgValue;
  return Number.isFinite(value) ? `${value.toFixed(2)}x` : "-";
}

/** "-" instead of NaN when every query failed. */
function fixed(value: number, digits: number): string {
  return Number.isNaN(value) ? "-" : value.toFixed(digits);
}

/** The URL without its password, for the report header. */
function redact(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  if (url.password !== "") url.password = "***";
  return url.toString();
}

async function main(): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  const { concurrency, durationMs, warmupMs, poolMax } = DEFAULT_DB_BENCH_OPTIONS;
  console.log(
    `db drivers on ${redact(databaseUrl)}: pool max ${poolMax}, ${concurrency} in flight, ` +
      `${warmupMs} ms warm-up + ${durationMs} ms per driver and query`,
  );
  printDriverTable(await benchDbDrivers(databaseUrl));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
