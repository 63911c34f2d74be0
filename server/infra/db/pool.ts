import pg from "pg";
import type { Logger } from "pino";
import { requestContext } from "../../core/request-context.ts";
import type { DbPool, DriverName, DriverSetting } from "./types.ts";

export type { DbPool, DriverName, DriverSetting } from "./types.ts";

export interface PoolOptions {
  url: string;
  driver: DriverName;
  max: number;
  min: number;
  statementTimeoutMs: number;
  applicationName: string;
  /**
   * The URL is a pooler's in transaction mode: the timeouts cannot travel as startup parameters (PgBouncer refuses
   * them, and a SET would stay on a server connection that the next transaction of anyone may get). The database
   * applies them instead, as defaults of the role (prepareDatabase).
   */
  behindPooler?: boolean;
  /** host:port/path of a WebSocket proxy for the Neon driver on a non-Neon host. */
  neonWsProxy?: string | undefined;
}

const IDLE_TIMEOUT_MS = 30_000;
/** Longest wait for a connection: opening one, or a free one when the pool is busy. */
const CONNECTION_TIMEOUT_MS = 5_000;
/**
 * Postgres cancels a statement at the statement timeout and says so; a query
 * still unanswered this much later was never seen by the server (a network
 * partition), and only a deadline on our side ends it.
 */
const ANSWER_MARGIN_MS = 1_000;
/** Idle connections send TCP keep-alives after this long, so that firewalls and NATs do not silently forget them. */
const KEEP_ALIVE_DELAY_MS = 10_000;

/** Neon's driver for Neon hosts (WebSocket, no TCP needed), `pg` everywhere else: measured faster over TCP (docs/decisions). */
export function resolveDriver(setting: DriverSetting, url: string): DriverName {
  if (setting !== "auto") return setting;
  return new URL(url).hostname.endsWith(".neon.tech") ? "neon" : "pg";
}

/** The server-side timeouts of every connection of ours: the role's defaults behind a pooler, startup parameters elsewhere. */
export function sessionTimeouts(statementTimeoutMs: number) {
  return {
    statement_timeout: statementTimeoutMs,
    // A transaction left open by a crashed handler must not hold locks forever.
    idle_in_transaction_session_timeout: statementTimeoutMs * 2,
  };
}

export async function createPool(options: PoolOptions, logger: Logger): Promise<DbPool> {
  const config = {
    connectionString: options.url,
    max: options.max,
    min: options.min,
    idleTimeoutMillis: IDLE_TIMEOUT_MS,
    connectionTimeoutMillis: CONNECTION_TIMEOUT_MS,
    ...(options.behindPooler ? {} : sessionTimeouts(options.statementTimeoutMs)),
    query_timeout: options.statementTimeoutMs + ANSWER_MARGIN_MS,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEP_ALIVE_DELAY_MS,
    application_name: options.applicationName,
  };
  // Neon's driver is loaded only where it is used, to keep worker start-up short.
  const pool = options.driver === "neon" ? (await import("./neon.ts")).createNeonPool(config, options.neonWsProxy) : new pg.Pool(config);
  // An idle client losing its connection (database restart, network cut) emits
  // 'error' on the pool; unhandled, it would kill the process. The pool replaces it.
  // Connection events fire in the async context of the request that opened the
  // connection; logging outside it keeps that request's id off unrelated lines.
  const warn = (message: string) => (error: Error) => requestContext.exit(() => logger.warn({ err: error }, message));
  pool.on("error", warn("database connection lost; the pool will reconnect"));
  // A checked-out client can fail too (server restart mid-query): its query rejects, the event must not crash us.
  pool.on("connect", (client) => client.on("error", warn("database client error")));
  return pool;
}

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
  max: number;
}

export function poolStats(pool: DbPool, max: number): PoolStats {
  return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max };
}
