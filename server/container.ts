import cluster from "node:cluster";
import type { Redis } from "ioredis";
import type Stripe from "stripe";
import type { Store } from "express-session";
import type { AppEnv } from "./config/env.ts";
import { PACKAGE_VERSION } from "./paths.ts";
import { createLogger, type Logger } from "./infra/logger.ts";
import { createPool, resolveDriver, type DbPool } from "./infra/db/pool.ts";
import { createDatabase, type Database } from "./infra/db/client.ts";
import { DatabaseBreaker } from "./infra/db/breaker.ts";
import { connectRedis, createRedis } from "./infra/redis.ts";
import { createSessionStore } from "./infra/sessions.ts";
import { Cache } from "./infra/cache.ts";
import { clusterPeers } from "./entry/peers.ts";
import { HealthMonitor } from "./infra/health.ts";
import { LoadMonitor } from "./infra/load.ts";
import { instrumentProcess, metricsRegistry, observePool } from "./infra/metrics.ts";
import { InstanceMetrics, type MetricsSource } from "./infra/instance-metrics.ts";
import { primaryMetrics } from "./entry/child-process.ts";
import { createStripe } from "./infra/stripe.ts";
import { createMailer, type Mailer } from "./infra/mailer.ts";
import { createRateLimits, type RateLimits } from "./infra/rate-limits.ts";
import { TicketCodes } from "./modules/tickets/ticket-code.ts";

export type Role = "web" | "worker";

/** Everything a process shares, built once here and nowhere else. */
export interface Container {
  config: AppEnv;
  role: Role;
  logger: Logger;
  pool: DbPool;
  db: Database;
  redis: Redis | undefined;
  sessionStore: Store;
  cache: Cache;
  health: HealthMonitor;
  rateLimits: RateLimits;
  /** Requests in flight and event-loop delay of this process: what load shedding decides on. */
  load: LoadMonitor;
  ticketCodes: TicketCodes;
  /** Undefined when no Stripe key is configured: payments answer 503 and webhooks are not accepted. */
  stripe: Stripe | undefined;
  /** Undefined without a SendGrid key: emails are captured, never sent. */
  mailer: Mailer | undefined;
  /** What `GET /api/metrics` and `GET /api/ops/status` serve: the whole instance's under a primary, this process's alone. */
  instanceMetrics: MetricsSource;
  close(): Promise<void>;
}

export async function buildContainer(
  config: AppEnv,
  role: Role,
  logger = createLogger({ level: config.logLevel, role }),
): Promise<Container> {
  const { url, directUrl } = config.database;
  if (!url || !directUrl) throw new Error("DATABASE_URL is required here (the primary sets it when it runs an embedded Postgres)");
  // Outside production the primary fills these in from .data/dev-secrets.json before forking.
  if (config.session.secrets.length === 0) throw new Error("SESSION_SECRET is not set");
  if (config.ticketSigningKeys.length === 0) throw new Error("TICKET_SIGNING_KEY is not set");
  // The background worker holds LISTEN connections: it always uses pg over TCP, on the direct (non-pooled) URL.
  const poolUrl = role === "worker" ? directUrl : url;
  const driver = role === "worker" ? "pg" : resolveDriver(config.database.driver, url);
  const pool = await createPool(
    {
      url: poolUrl,
      driver,
      max: config.plan.poolMaxPerProcess,
      min: config.plan.poolMinPerProcess,
      statementTimeoutMs: config.plan.dbStatementTimeoutMs,
      applicationName: `community-${role}`,
      behindPooler: role === "web" && config.database.behindPooler,
      neonWsProxy: config.database.neonWsProxy,
    },
    logger,
  );
  const breaker = new DatabaseBreaker(pool, logger);
  // The background worker's pool stays outside the breaker: its jobs wait for the database rather than fail.
  if (role === "web") breaker.protect();
  instrumentProcess(role);
  observePool(pool, config.plan.poolMaxPerProcess, role === "web" ? breaker : undefined);
  const redis = config.redisUrl ? createRedis(config.redisUrl, logger) : undefined;
  // The cache's bus listens on a connection of its own: a subscribed connection sends nothing else.
  const cacheSubscriber = config.redisUrl ? createRedis(config.redisUrl, logger) : undefined;
  if (redis && cacheSubscriber) await Promise.all([connectRedis(redis, logger), connectRedis(cacheSubscriber, logger)]);
  const cache = new Cache({
    settings: config.plan.cache,
    prefix: `${config.redisKeyPrefix}cache`,
    redis: redis && cacheSubscriber && { client: redis, subscriber: cacheSubscriber },
    peers: clusterPeers,
  });
  const health = new HealthMonitor({ pool, poolMax: config.plan.poolMaxPerProcess, breaker, redis, version: PACKAGE_VERSION });
  const load = new LoadMonitor({ maxInFlight: config.plan.maxInFlightPerWorker, maxEventLoopDelayMs: config.plan.maxEventLoopDelayMs });
  return {
    config,
    role,
    logger,
    pool,
    db: await createDatabase(pool, driver),
    redis,
    sessionStore: createSessionStore(redis, pool, config.redisKeyPrefix),
    cache,
    health,
    rateLimits: createRateLimits(config, redis),
    load,
    ticketCodes: new TicketCodes(config.ticketSigningKeys),
    stripe: config.stripe ? createStripe(config.stripe) : undefined,
    mailer: mailerOf(config.email),
    instanceMetrics: cluster.isWorker ? primaryMetrics() : ownMetrics(role, logger),
    async close() {
      breaker.stop();
      load.stop();
      // The cache's Redis layer shares the client: closed first, then the client.
      await cache.close().catch(() => undefined);
      await Promise.allSettled([pool.end(), redis?.quit()]);
    },
  };
}

function mailerOf(email: AppEnv["email"]): Mailer | undefined {
  if (!email.sendgridApiKey) return undefined;
  return createMailer({
    apiKey: email.sendgridApiKey,
    apiUrl: email.sendgridApiUrl,
    from: email.from,
    timeoutMs: email.sendTimeoutMs,
    ratePerS: email.sendRatePerS,
  });
}

function ownMetrics(role: Role, logger: Logger): MetricsSource {
  return new InstanceMetrics(async () => [{ role, pid: process.pid, metrics: await metricsRegistry.getMetricsAsJSON() }], logger);
}
