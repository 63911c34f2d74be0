import session, { type Store } from "express-session";
import RedisStore from "connect-redis";
import connectPgSimple from "connect-pg-simple";
import type { Redis } from "ioredis";
import { lt, sql } from "drizzle-orm";
import { sessions } from "../../shared/schema/index.ts";
import type { DbPool } from "./db/pool.ts";
import type { Executor } from "./db/client.ts";

/**
 * Where sessions live: Redis when configured (fast, shared by every instance),
 * else the `sessions` table, so that even local mode shares them across workers.
 */
export function createSessionStore(redis: Redis | undefined, pool: DbPool, redisKeyPrefix: string): Store {
  if (redis) return new RedisStore({ client: redis, prefix: `${redisKeyPrefix}sess:` });
  const PgStore = connectPgSimple(session);
  // Expired rows are removed by the background worker's cleanup job rather than by a timer in every web worker.
  return new PgStore({ pool, tableName: "sessions", pruneSessionInterval: false });
}

/** Expired sessions of local mode (Redis expires its own keys). */
export async function deleteExpiredSessions(db: Executor): Promise<number> {
  const deleted = await db
    .delete(sessions)
    .where(lt(sessions.expire, sql`now()`))
    .returning({ sid: sessions.sid });
  return deleted.length;
}
