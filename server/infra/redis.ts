import { Redis } from "ioredis";
import type { Logger } from "pino";
import { withDeadline } from "./deadline.ts";

type RedisStatus = "up" | "down" | "disabled";

export interface RedisCheck {
  status: RedisStatus;
  latencyMs?: number;
  error?: string;
}

/** A health check's PING waits this long: a stalled Redis keeps its connection "ready" but answers nothing. */
const REDIS_CHECK_TIMEOUT_MS = 500;

/** Reconnection delay: quick at first, then every 2 s, forever; Redis coming back is picked up by itself. */
const retryDelay = (attempt: number) => Math.min(50 * 2 ** attempt, 2_000);

/** How often a lost connection is logged again while it stays lost. */
const ERROR_LOG_INTERVAL_MS = 30_000;

/**
 * One client per process. Commands fail at once while disconnected rather than
 * queueing (a request must not hang on a dead Redis), and errors are logged,
 * never thrown: Redis holds only what can be rebuilt, so losing it degrades.
 * Commands issued in one turn of the event loop (the rate limits and sessions of
 * the requests read together) leave in one write, and Redis answers them in one:
 * a write to a socket per command cost more than the rest of a cached read.
 */
export function createRedis(url: string, logger: Logger): Redis {
  const client = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: 2_000,
    retryStrategy: retryDelay,
    lazyConnect: true,
    enableAutoPipelining: true,
  });
  let lastErrorLoggedAt = 0;
  client.on("error", (error: Error) => {
    if (Date.now() - lastErrorLoggedAt < ERROR_LOG_INTERVAL_MS) return;
    lastErrorLoggedAt = Date.now();
    logger.warn({ err: { message: error.message } }, "redis unavailable; retrying in the background");
  });
  client.on("ready", () => {
    if (lastErrorLoggedAt > 0) logger.info("redis connection restored");
    lastErrorLoggedAt = 0;
  });
  return client;
}

/** Connects without failing the start: a Redis down at boot is the same degraded state as one lost later. */
export async function connectRedis(client: Redis, logger: Logger): Promise<void> {
  await client.connect().catch((error: Error) => logger.warn({ err: { message: error.message } }, "redis not reachable at start"));
}

/** A PING, not the client's connection status: a frozen Redis (paused, swapping, stuck on a slow command) looks connected. */
export async function checkRedis(client: Redis | undefined): Promise<RedisCheck> {
  if (!client) return { status: "disabled" };
  const started = performance.now();
  try {
    await withDeadline(client.ping(), REDIS_CHECK_TIMEOUT_MS);
    return { status: "up", latencyMs: Math.round((performance.now() - started) * 10) / 10 };
  } catch (error) {
    return { status: "down", error: error instanceof Error ? error.message : String(error) };
  }
}
