import pg from "pg";
import type { Logger } from "pino";
import { isDatabaseUnreachable } from "./db/unreachable.ts";

/**
 * Processes wait for a dependency that does not answer instead of failing their
 * start: a database being restarted, failed over or cut off for a while is not
 * a reason to stop the service, and once it answers again everything resumes by
 * itself. What waiting cannot fix (a wrong password, a database that does not
 * exist, a bug) still fails, with its message.
 */

/** Retry delays: quick at first, then every few seconds, so a dependency coming back is noticed within seconds. */
export const RETRY_FIRST_MS = 250;
export const RETRY_MAX_MS = 2_000;
/** While a dependency stays away, the waiting is logged again this often, not at every attempt. */
const LOG_AGAIN_AFTER_MS = 30_000;

export interface WaitOptions {
  /** What is waited for, in the log: "database". */
  dependency: string;
  logger: Logger;
  /** Ends the waiting (the process is asked to stop): the promise then rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
}

/**
 * Runs `attempt` until it succeeds. An error that says the dependency is not reachable is logged (once, then every
 * 30 s) and the attempt is made again after a delay doubling from 250 ms to 2 s; any other error is thrown.
 */
export async function untilReachable<T>(attempt: () => Promise<T>, { dependency, logger, signal }: WaitOptions): Promise<T> {
  const startedAt = Date.now();
  let delayMs = RETRY_FIRST_MS;
  let loggedAt: number | undefined;
  for (let attempts = 1; ; attempts += 1) {
    signal?.throwIfAborted();
    try {
      const result = await attempt();
      if (loggedAt !== undefined) logger.info({ dependency, attempts, waitedMs: Date.now() - startedAt }, "dependency reachable again");
      return result;
    } catch (error) {
      if (!isDatabaseUnreachable(error)) throw error;
      if (loggedAt === undefined || Date.now() - loggedAt >= LOG_AGAIN_AFTER_MS) {
        loggedAt = Date.now();
        const reason = error instanceof Error ? error.message : String(error);
        logger.warn({ dependency, attempts, reason, waitedMs: loggedAt - startedAt }, "dependency not reachable; waiting");
      }
    }
    await abortableSleep(delayMs, signal);
    delayMs = Math.min(delayMs * 2, RETRY_MAX_MS);
  }
}

function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener("abort", aborted);
      resolve();
    }
    function aborted() {
      clearTimeout(timer);
      reject(signal?.reason);
    }
    signal?.addEventListener("abort", aborted, { once: true });
  });
}

/** A probe gives up on a connection that does not answer (packets dropped) after this. */
const PROBE_TIMEOUT_MS = 3_000;

/** Runs `work` on a connection of its own, opened and closed around it, every step under PROBE_TIMEOUT_MS. */
async function withProbeConnection<T>(url: string, applicationName: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: PROBE_TIMEOUT_MS,
    query_timeout: PROBE_TIMEOUT_MS,
    application_name: applicationName,
  });
  // An error after connect (the server going away mid-probe) is reported by the query; unhandled, it would crash.
  client.on("error", () => undefined);
  try {
    await client.connect();
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** One connection and `select 1`: the database answers, with these credentials, to this database. */
export async function probeDatabase(url: string): Promise<void> {
  await withProbeConnection(url, "startup-probe", (client) => client.query("select 1"));
}

/** Waits until the database at this URL answers; a configuration error (password, database name) is thrown at once. */
export function waitForDatabase(url: string, logger: Logger, signal?: AbortSignal): Promise<void> {
  return untilReachable(() => probeDatabase(url), { dependency: "database", logger, signal });
}

export interface ServerLimits {
  maxConnections: number;
  superuserReserved: number;
}

/** What the server accepts in all, for the primary's check of the connection budget; also its first probe of the database. */
export function readServerLimits(url: string): Promise<ServerLimits> {
  return withProbeConnection(url, "capacity-check", async (client) => {
    const { rows } = await client.query<{ max: string; reserved: string }>(
      "select current_setting('max_connections') as max, current_setting('superuser_reserved_connections') as reserved",
    );
    const row = rows[0];
    if (!row) throw new Error("the database did not report max_connections");
    return { maxConnections: Number(row.max), superuserReserved: Number(row.reserved) };
  });
}
