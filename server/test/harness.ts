import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import type { Express } from "express";
import type { LevelWithSilent } from "pino";
import { afterAll, beforeAll, inject } from "vitest";
import { loadConfig } from "../config/env.ts";
import { buildContainer, type Container } from "../container.ts";
import { createApp } from "../app.ts";
import { createHttpServer, listen } from "../entry/http-server.ts";
import { createLogger, type Logger } from "../infra/logger.ts";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.ts";

export const databaseUrl = inject("databaseUrl");
export const redisUrl = inject("redisUrl") || undefined;
export const redisSkipReason = inject("redisSkipReason");

export const TEST_SESSION_SECRET = "test-session-secret-that-is-long-enough-0123456789";
export const TEST_TICKET_SIGNING_KEY = "test-ticket-signing-key-that-is-long-enough-98765";

export type EnvOverrides = Record<string, string | undefined>;

/** The environment a test server or cluster runs with: this run's database, Redis when present, quiet logs. */
export function testEnv(overrides: EnvOverrides = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    NODE_ENV: "test",
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    // Runs in parallel (several checkouts) share the one Redis: each keeps to its own keys.
    REDIS_KEY_PREFIX: `${new URL(databaseUrl).pathname.slice(1)}:`,
    SESSION_SECRET: TEST_SESSION_SECRET,
    TICKET_SIGNING_KEY: TEST_TICKET_SIGNING_KEY,
    LOG_LEVEL: "silent",
    WEB_CONCURRENCY: "2",
    // Test files share 127.0.0.1 and one Redis: limits are counted, never reached, except where a test sets its own.
    RATE_LIMIT_MULTIPLIER: "1000",
    // No load shedding: tests send hundreds of requests at once to check other things, and share 2 CPUs with other runs (a
    // starved process lags like an overloaded one). The load-shedding tests set their own limits.
    SHED_MAX_IN_FLIGHT: "0",
    SHED_MAX_EVENT_LOOP_DELAY_MS: "0",
    ...overrides,
  };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  return env;
}

/** Log lines written during a test, parsed, for assertions on what is (and is not) logged. */
export interface CapturedLog {
  logger: Logger;
  lines: Array<Record<string, unknown>>;
  text(): string;
}

/** The product's logger (same redaction and context), writing into memory. */
export function captureLog(level: LevelWithSilent = "info"): CapturedLog {
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      raw.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      callback();
    },
  });
  const logger = createLogger({ level, role: "test", destination: stream });
  return {
    logger,
    get lines() {
      return raw.map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    text: () => raw.join("\n"),
  };
}

export interface TestServer {
  url: string;
  container: Container;
  /** The application served, for tests that walk its route table. */
  app: Express;
  close(): Promise<void>;
}

/**
 * The real application and its real dependencies, listening on a random port in
 * this process. Closing it fails the test if any request got a 500: whatever a
 * test sends, malformed input included, must get a deliberate answer.
 */
export async function startTestServer(overrides: EnvOverrides = {}, log: CapturedLog = captureLog()): Promise<TestServer> {
  const config = loadConfig(testEnv({ PORT: "0", ...overrides }));
  const container = await buildContainer(config, "web", log.logger);
  const app = createApp(container);
  const server = createHttpServer(app, config);
  await listen(server, 0);
  container.health.markReady();
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    container,
    app,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await container.close();
      const failures = log.lines.filter((line) => line.msg === "request" && line.status === 500);
      if (failures.length > 0) {
        throw new Error(
          `requests answered 500 (internal): ${failures.map((line) => `${String(line.method)} ${String(line.route)}`).join(", ")}`,
        );
      }
    },
  };
}

/** A fetch that keeps the session cookie between requests, like a browser would. */
export class HttpClient {
  cookie: string | undefined;

  constructor(readonly baseUrl: string) {}

  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...(this.cookie ? { cookie: this.cookie } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const setCookie = response.headers.get("set-cookie");
    if (setCookie) this.cookie = setCookie.split(";")[0];
    return response;
  }

  get = (path: string, headers?: Record<string, string>) => this.request("GET", path, undefined, headers);
  post = (path: string, body?: unknown, headers?: Record<string, string>) => this.request("POST", path, body, headers);
}

/** A test server whose Redis goes through a relay the test can cut and restore. */
export interface ServerWithCuttableRedis {
  server: TestServer;
  redis: TcpProxy;
}

/** Starts it before the suite's tests, stops it after them; the fields are set once the suite runs. */
export function serverWithCuttableRedisForSuite(): ServerWithCuttableRedis {
  const setup = {} as ServerWithCuttableRedis;
  beforeAll(async () => {
    if (!redisUrl) throw new Error(`no Redis: ${redisSkipReason}`);
    const target = new URL(redisUrl);
    setup.redis = await startTcpProxy(target.hostname, Number(target.port || 6379));
    setup.server = await startTestServer({ REDIS_URL: `redis://127.0.0.1:${setup.redis.port}` });
  });
  afterAll(async () => {
    await setup.server?.close();
    await setup.redis?.close();
  });
  return setup;
}
