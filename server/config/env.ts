import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { CAPACITY_TIERS, TIER_PRESETS } from "./tiers.ts";
import { planCapacity, type CapacityOverrides, type CapacityPlan } from "./capacity.ts";

/**
 * The only reader of process.env. Every variable is parsed here once; a wrong
 * value stops the start with a message naming the variable.
 */

const blankAsUnset = (value: unknown) => (typeof value === "string" && value.trim() === "" ? undefined : value);
const optional = <T extends z.ZodType>(schema: T) => z.preprocess(blankAsUnset, schema.optional());
const wholeNumber = (min: number) =>
  z.coerce.number({ error: "must be a whole number" }).int("must be a whole number").min(min, `must be at least ${min}`);

/** Comma-separated secrets: the first signs, all verify, so a secret rotates without logging everyone out. */
const secretList = z
  .string()
  .transform((value) =>
    value
      .split(",")
      .map((secret) => secret.trim())
      .filter(Boolean),
  )
  .refine((secrets) => secrets.length > 0 && secrets.every((secret) => secret.length >= 32), "each secret must be at least 32 characters");

const postgresUrl = z
  .string()
  .url()
  .refine((value) => /^postgres(ql)?:\/\//.test(value), "must start with postgres:// or postgresql://");

const envSchema = z.object({
  NODE_ENV: z.preprocess(blankAsUnset, z.enum(["development", "production", "test"]).default("development")),
  PORT: z.preprocess(blankAsUnset, wholeNumber(0).max(65_535).default(5000)),
  APP_URL: optional(z.string().url()),
  LOG_LEVEL: z.preprocess(blankAsUnset, z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info")),

  DATABASE_URL: optional(postgresUrl),
  DATABASE_DIRECT_URL: optional(postgresUrl),
  DB_DRIVER: z.preprocess(blankAsUnset, z.enum(["auto", "pg", "neon"]).default("auto")),
  DB_NEON_WS_PROXY: optional(z.string()),
  REDIS_URL: optional(
    z
      .string()
      .url()
      .refine((value) => /^rediss?:\/\//.test(value), "must start with redis:// or rediss://"),
  ),

  /** Put before every key this product writes to Redis, so that several deployments (or test runs) can share one. */
  REDIS_KEY_PREFIX: z.preprocess(
    blankAsUnset,
    z
      .string()
      .regex(/^[\w.:-]*$/, "letters, digits and . : _ - only")
      .default(""),
  ),

  CAPACITY_TIER: z.preprocess(blankAsUnset, z.enum(CAPACITY_TIERS).default("growth")),
  WEB_CONCURRENCY: optional(wholeNumber(1).max(256)),
  DB_CONNECTION_BUDGET: optional(wholeNumber(1)),
  DB_CONNECTION_RESERVE: optional(wholeNumber(0)),
  DB_STATEMENT_TIMEOUT_MS: optional(wholeNumber(100)),
  MAX_CONNECTIONS_PER_WORKER: optional(wholeNumber(1)),
  // At most the 30 s a whole request may take (server/entry/http-server.ts).
  HTTP_HEADERS_TIMEOUT_MS: z.preprocess(blankAsUnset, wholeNumber(100).max(30_000).default(10_000)),
  // Above the idle timeout of the load balancer in front (60 s for most), so that it, not we, closes idle connections.
  HTTP_KEEP_ALIVE_TIMEOUT_MS: z.preprocess(blankAsUnset, wholeNumber(100).default(65_000)),
  BODY_LIMIT_KB: optional(wholeNumber(1)),
  /** Load shedding per web worker (0: off). */
  SHED_MAX_IN_FLIGHT: optional(wholeNumber(0)),
  SHED_MAX_EVENT_LOOP_DELAY_MS: optional(wholeNumber(0)),
  CACHE_COMMUNITY_TTL_S: optional(wholeNumber(1)),
  CACHE_MAX_MB: optional(wholeNumber(1)),

  SESSION_SECRET: optional(secretList),
  TICKET_SIGNING_KEY: optional(secretList),
  CSRF_TRUSTED_ORIGINS: optional(z.string()),
  OPS_TOKEN: optional(z.string().min(32, "must be at least 32 characters")),
  SESSION_IDLE_HOURS: z.preprocess(blankAsUnset, wholeNumber(1).default(24 * 7)),
  SESSION_MAX_HOURS: z.preprocess(blankAsUnset, wholeNumber(1).default(24 * 30)),
  /** The session cookie's Secure flag; only a deployment reached over plain HTTP on loopback turns it off in production. */
  SESSION_COOKIE_SECURE: optional(z.enum(["true", "false"])),
  TRUST_PROXY: optional(z.string()),

  SHUTDOWN_DRAIN_DELAY_MS: optional(wholeNumber(0)),
  SHUTDOWN_TIMEOUT_MS: z.preprocess(blankAsUnset, wholeNumber(0).default(10_000)),
  DATA_DIR: z.preprocess(blankAsUnset, z.string().default(".data")),
  QUEUE_CONCURRENCY: optional(wholeNumber(1)),

  STRIPE_SECRET_KEY: optional(z.string().regex(/^(sk|rk)_/, "must be a Stripe secret or restricted key (sk_… or rk_…)")),
  STRIPE_WEBHOOK_SECRET: optional(z.string().regex(/^whsec_/, "must be a webhook signing secret (whsec_…)")),
  STRIPE_CONNECT_WEBHOOK_SECRET: optional(z.string().regex(/^whsec_/, "must be a webhook signing secret (whsec_…)")),
  STRIPE_API_URL: optional(z.string().url()),
  STRIPE_PRICE_PRO: optional(z.string()),
  STRIPE_PRICE_PREMIUM: optional(z.string()),
  /** The platform's share of each dues payment, in percent (two decimals at most). */
  STRIPE_APPLICATION_FEE_PERCENT: z.preprocess(
    blankAsUnset,
    z.coerce.number({ error: "must be a number" }).min(0, "must be at least 0").max(100, "must be at most 100").default(5),
  ),
  /** `true`: dues payments are made on behalf of the community, which is then the merchant of record. */
  STRIPE_DUES_ON_BEHALF_OF: z.preprocess(blankAsUnset, z.enum(["true", "false"]).default("false")),

  SENDGRID_API_KEY: optional(z.string()),
  SENDGRID_API_URL: optional(z.string().url()),
  SENDGRID_WEBHOOK_PUBLIC_KEY: optional(z.string()),
  EMAIL_FROM: z.preprocess(blankAsUnset, z.string().default("Community <no-reply@localhost>")),
  EMAIL_SEND_RATE_PER_S: z.preprocess(blankAsUnset, wholeNumber(1).default(10)),
  EMAIL_SEND_TIMEOUT_MS: z.preprocess(blankAsUnset, wholeNumber(100).default(10_000)),
  EMAIL_MAX_ATTEMPTS: z.preprocess(blankAsUnset, wholeNumber(1).max(50).default(8)),
  EMAIL_RETRY_BASE_MS: z.preprocess(blankAsUnset, wholeNumber(1).default(30_000)),

  /** Scales every rate limit below and the plans' allowances (the bench sets it high: limits checked, never reached). */
  RATE_LIMIT_MULTIPLIER: z.preprocess(blankAsUnset, z.coerce.number({ error: "must be a number" }).positive("must be above 0").default(1)),
  RATE_LIMIT_BLOCK_S: z.preprocess(blankAsUnset, wholeNumber(1).default(300)),
  RATE_LIMIT_ANONYMOUS_PER_MIN: z.preprocess(blankAsUnset, wholeNumber(1).default(120)),
  RATE_LIMIT_GLOBAL_PER_S: optional(wholeNumber(1)),
  RATE_LIMIT_AUTH_PER_MIN: z.preprocess(blankAsUnset, wholeNumber(1).default(10)),
  RATE_LIMIT_CHECKIN_PER_MIN: z.preprocess(blankAsUnset, wholeNumber(1).default(120)),
});

type RawEnv = z.infer<typeof envSchema>;

export type AppEnv = ReturnType<typeof buildConfig>;

export class ConfigError extends Error {
  override name = "ConfigError";
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`).join("\n");
}

/** express's `trust proxy` accepts a boolean, a hop count or a list of addresses. */
function parseTrustProxy(value: string | undefined): boolean | number | string {
  if (value === undefined || value === "false") return false;
  if (value === "true") return true;
  return /^\d+$/.test(value) ? Number(value) : value;
}

function capacityOverrides(raw: RawEnv): CapacityOverrides {
  return {
    webWorkers: raw.WEB_CONCURRENCY,
    dbConnectionBudget: raw.DB_CONNECTION_BUDGET,
    dbConnectionReserve: raw.DB_CONNECTION_RESERVE,
    dbStatementTimeoutMs: raw.DB_STATEMENT_TIMEOUT_MS,
    maxConnectionsPerWorker: raw.MAX_CONNECTIONS_PER_WORKER,
    bodyLimitKb: raw.BODY_LIMIT_KB,
    maxInFlightPerWorker: raw.SHED_MAX_IN_FLIGHT,
    maxEventLoopDelayMs: raw.SHED_MAX_EVENT_LOOP_DELAY_MS,
    cacheCommunityTtlS: raw.CACHE_COMMUNITY_TTL_S,
    cacheMaxMb: raw.CACHE_MAX_MB,
  };
}

/** The capacity overrides set in an environment, without planning (for reports that plan every tier). */
export function loadCapacityOverrides(source: NodeJS.ProcessEnv = process.env): CapacityOverrides {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) throw new ConfigError(`Invalid configuration:\n${describeIssues(parsed.error)}`);
  return capacityOverrides(parsed.data);
}

function parseOrigins(value: string | undefined): string[] {
  if (!value) return [];
  return value
    .split(",")
    .map((origin) => origin.trim())
    .filter(Boolean)
    .map((origin) => {
      try {
        return new URL(origin).origin;
      } catch {
        throw new ConfigError(`Invalid configuration:\n  CSRF_TRUSTED_ORIGINS: "${origin}" is not a URL`);
      }
    });
}

/** Payments are on when a Stripe key is set; each webhook endpoint when its signing secret is. */
function stripeConfig(raw: RawEnv) {
  if (!raw.STRIPE_SECRET_KEY) return undefined;
  return {
    secretKey: raw.STRIPE_SECRET_KEY,
    apiUrl: raw.STRIPE_API_URL,
    webhookSecret: raw.STRIPE_WEBHOOK_SECRET,
    connectWebhookSecret: raw.STRIPE_CONNECT_WEBHOOK_SECRET,
    /** Stripe price ids of the paid plans (a test account and a live one have different ids). */
    prices: { pro: raw.STRIPE_PRICE_PRO, premium: raw.STRIPE_PRICE_PREMIUM } as Partial<Record<string, string>>,
    applicationFeePercent: raw.STRIPE_APPLICATION_FEE_PERCENT,
    duesOnBehalfOf: raw.STRIPE_DUES_ON_BEHALF_OF === "true",
  };
}

function buildConfig(raw: RawEnv, cpus: number) {
  const production = raw.NODE_ENV === "production";
  const missing = (["SESSION_SECRET", "TICKET_SIGNING_KEY"] as const).filter((name) => production && !raw[name]);
  if (missing.length > 0) {
    throw new ConfigError(`Invalid configuration:\n${missing.map((name) => `  ${name}: required when NODE_ENV=production`).join("\n")}`);
  }
  if (raw.SESSION_MAX_HOURS < raw.SESSION_IDLE_HOURS) {
    throw new ConfigError("Invalid configuration:\n  SESSION_MAX_HOURS: must be at least SESSION_IDLE_HOURS");
  }
  const plan: CapacityPlan = planCapacity(raw.CAPACITY_TIER, capacityOverrides(raw), cpus);
  return {
    nodeEnv: raw.NODE_ENV,
    production,
    port: raw.PORT,
    appUrl: raw.APP_URL ?? `http://localhost:${raw.PORT}`,
    logLevel: raw.LOG_LEVEL,
    database: {
      url: raw.DATABASE_URL,
      directUrl: raw.DATABASE_DIRECT_URL ?? raw.DATABASE_URL,
      /**
       * A direct URL different from DATABASE_URL says DATABASE_URL goes through a pooler in transaction mode (PgBouncer,
       * Neon's pooled endpoint): its connections carry no session state (docs/operations.md, Behind a pooler).
       */
      behindPooler: raw.DATABASE_DIRECT_URL !== undefined && raw.DATABASE_URL !== undefined && raw.DATABASE_DIRECT_URL !== raw.DATABASE_URL,
      driver: raw.DB_DRIVER,
      neonWsProxy: raw.DB_NEON_WS_PROXY,
      embeddedDir: path.join(raw.DATA_DIR, "postgres"),
    },
    /** Local state of development runs: the embedded database, generated secrets. */
    dataDir: raw.DATA_DIR,
    redisUrl: raw.REDIS_URL,
    redisKeyPrefix: raw.REDIS_KEY_PREFIX,
    plan,
    http: { headersTimeoutMs: raw.HTTP_HEADERS_TIMEOUT_MS, keepAliveTimeoutMs: raw.HTTP_KEEP_ALIVE_TIMEOUT_MS },
    session: {
      /** Empty only outside production before the primary fills in development secrets (server/config/dev-secrets.ts). */
      secrets: raw.SESSION_SECRET ?? [],
      idleMs: raw.SESSION_IDLE_HOURS * 3_600_000,
      maxAgeMs: raw.SESSION_MAX_HOURS * 3_600_000,
      secureCookie: raw.SESSION_COOKIE_SECURE === undefined ? production : raw.SESSION_COOKIE_SECURE === "true",
    },
    ticketSigningKeys: raw.TICKET_SIGNING_KEY ?? [],
    /** Origins whose browser requests may change state, besides APP_URL's. */
    trustedOrigins: [new URL(raw.APP_URL ?? `http://localhost:${raw.PORT}`).origin, ...parseOrigins(raw.CSRF_TRUSTED_ORIGINS)],
    trustProxy: parseTrustProxy(raw.TRUST_PROXY),
    /** Bearer token of operators' endpoints and of the health report's details; unset: details are never shown. */
    opsToken: raw.OPS_TOKEN,
    shutdown: {
      drainDelayMs: raw.SHUTDOWN_DRAIN_DELAY_MS ?? (production ? 2_000 : 0),
      timeoutMs: raw.SHUTDOWN_TIMEOUT_MS,
    },
    queueConcurrency: raw.QUEUE_CONCURRENCY,
    stripe: stripeConfig(raw),
    email: {
      /** Unset: emails are captured in the database (listed by /api/ops/emails), never sent. */
      sendgridApiKey: raw.SENDGRID_API_KEY,
      sendgridApiUrl: raw.SENDGRID_API_URL,
      webhookPublicKey: raw.SENDGRID_WEBHOOK_PUBLIC_KEY,
      from: raw.EMAIL_FROM,
      sendRatePerS: raw.EMAIL_SEND_RATE_PER_S,
      /** Deadline of one call to SendGrid. */
      sendTimeoutMs: raw.EMAIL_SEND_TIMEOUT_MS,
      /** Attempts to hand an email to SendGrid before it is `failed`; the n-th retry waits base × 2^(n−1), at most an hour. */
      maxAttempts: raw.EMAIL_MAX_ATTEMPTS,
      retryBaseMs: raw.EMAIL_RETRY_BASE_MS,
    },
    /** Allowances before RATE_LIMIT_MULTIPLIER; a signed-in user's comes from their plan (docs/operations.md, Rate limits). */
    rateLimits: {
      multiplier: raw.RATE_LIMIT_MULTIPLIER,
      /** How long a client sending twice its allowance within one window is refused. */
      blockS: raw.RATE_LIMIT_BLOCK_S,
      anonymousPerMin: raw.RATE_LIMIT_ANONYMOUS_PER_MIN,
      globalPerS: raw.RATE_LIMIT_GLOBAL_PER_S ?? TIER_PRESETS[raw.CAPACITY_TIER].rateLimitGlobalPerS,
      authPerMin: raw.RATE_LIMIT_AUTH_PER_MIN,
      checkinPerMin: raw.RATE_LIMIT_CHECKIN_PER_MIN,
    },
  };
}

/** Parses an environment (process.env by default); throws ConfigError naming every bad variable. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env, cpus = os.availableParallelism()): AppEnv {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) throw new ConfigError(`Invalid configuration:\n${describeIssues(parsed.error)}`);
  return buildConfig(parsed.data, cpus);
}

/**
 * Role and flags given on the command line (`--role=web`), read here so that
 * entry points never touch process.argv or process.env themselves.
 */
export function commandLineRole(argv: readonly string[] = process.argv): "web" | "worker" | "migrate" | undefined {
  const flagValue = argv.find((arg) => arg.startsWith("--role="))?.slice("--role=".length);
  if (flagValue === undefined) return undefined;
  if (flagValue === "web" || flagValue === "worker" || flagValue === "migrate") return flagValue;
  throw new ConfigError(`Invalid command line: --role must be "web", "worker" or "migrate", got "${flagValue}"`);
}

/** Sets variables the process resolved itself (development secrets) before anything reads the configuration again. */
export function setEnvironment(values: Record<string, string>): void {
  Object.assign(process.env, values);
}

/** The environment a child process gets: this one, plus values the primary resolved (embedded database URL, generated secret). */
export function childEnvironment(resolved: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, ...resolved };
}
