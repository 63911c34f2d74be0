import net from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { sql } from "drizzle-orm";
import { databaseUrl, redisUrl, serverWithCuttableRedisForSuite, startTestServer, type TestServer } from "../../test/harness.ts";
import { startNeonWsProxy, type NeonWsProxy } from "../../test/neon-ws-proxy.ts";
import { freePort } from "../../infra/free-port.ts";
import { HEALTH_CACHE_MS, type HealthReport } from "../../infra/health.ts";
import type { PublicHealth } from "./health.presenter.ts";

const OPS_TOKEN = "ops-token-of-the-health-tests-0123456789";

async function health(server: TestServer): Promise<{ status: number; body: PublicHealth; text: string }> {
  const response = await fetch(`${server.url}/api/health`);
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text) as PublicHealth, text };
}

/** The report with its details, as an operator holding the token sees it. */
async function detailedHealth(server: TestServer, token = OPS_TOKEN): Promise<{ status: number; body: HealthReport }> {
  const response = await fetch(`${server.url}/api/health`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as HealthReport };
}

/** A TCP server that accepts connections and never answers: a database that hangs. */
async function silentServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/none`,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe("health with every dependency up", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ OPS_TOKEN });
  });
  afterAll(() => server.close());

  it("reports the database, its breaker, Redis, the queue, the pool and the process to operators", async () => {
    const { status, body } = await detailedHealth(server);
    expect(status).toBe(200);
    expect(body.status).toBe("healthy");
    expect(body.checks.database).toMatchObject({ status: "up", breaker: "closed" });
    expect(body.checks.database.latencyMs).toBeGreaterThanOrEqual(0);
    expect(body.checks.redis.status).toBe(redisUrl ? "up" : "disabled");
    expect(body.checks.queue).toMatchObject({ status: "up", pending: expect.any(Number) });
    expect(body.pool).toMatchObject({ max: server.container.config.plan.poolMaxPerProcess, waiting: 0 });
    expect(body.pid).toBe(process.pid);
    expect(body.memory.rssMb).toBeGreaterThan(0);
  });

  it("shows anyone else states only: no error text, pool, memory or version", async () => {
    const expected = {
      status: "healthy",
      checks: { database: { status: "up", breaker: "closed" }, redis: { status: redisUrl ? "up" : "disabled" }, queue: { status: "up" } },
      pid: process.pid,
    };
    expect((await health(server)).body).toEqual(expected);
    expect((await detailedHealth(server, `${OPS_TOKEN}x`)).body).toEqual(expected);
  });

  it("reuses one round of checks for a second, so probes cannot hammer the database", async () => {
    // The clock moved past the reuse window instead of waiting it out (only Date is faked: timers and I/O run as usual).
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + HEALTH_CACHE_MS + 1);
    const query = vi.spyOn(server.container.pool, "query");
    try {
      await Promise.all(Array.from({ length: 20 }, () => health(server)));
      // One round: the queue count, whatever the number of probes; the database check is the breaker's last.
      expect(query).toHaveBeenCalledTimes(1);
    } finally {
      query.mockRestore();
      vi.useRealTimers();
    }
  });

  it("is live and ready", async () => {
    expect((await fetch(`${server.url}/api/health/live`)).status).toBe(200);
    expect((await fetch(`${server.url}/api/health/ready`)).status).toBe(200);
  });

  it("turns readiness to 503 while draining, staying live", async () => {
    server.container.health.markDraining();
    const ready = await fetch(`${server.url}/api/health/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: "draining" });
    expect((await fetch(`${server.url}/api/health/live`)).status).toBe(200);
  });
});

describe("health without a database", () => {
  let database: Awaited<ReturnType<typeof silentServer>>;
  let silent: TestServer;
  let refusedPort: number;
  let refused: TestServer;
  beforeAll(async () => {
    database = await silentServer();
    silent = await startTestServer({ DATABASE_URL: database.url });
    refusedPort = await freePort();
    refused = await startTestServer({ DATABASE_URL: `postgres://postgres@127.0.0.1:${refusedPort}/none`, OPS_TOKEN });
  });
  afterAll(async () => {
    // The silent database first: closing it ends the connection attempt the pool would otherwise wait 5 s for.
    await database.close();
    await silent.close();
    await refused.close();
  });

  it("answers 503 unhealthy within the 1 s check timeout, with its breaker open, and not ready, but live", async () => {
    const started = Date.now();
    const { status, body } = await health(silent);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(status).toBe(503);
    expect(body.status).toBe("unhealthy");
    expect(body.checks.database).toEqual({ status: "down", breaker: "open" });
    expect((await fetch(`${silent.url}/api/health/ready`)).status).toBe(503);
    expect((await fetch(`${silent.url}/api/health/live`)).status).toBe(200);
  });

  it("shows states only, whatever bearer token is sent, when no ops token is configured", async () => {
    for (const token of ["", "anything-at-all"]) {
      expect(Object.keys((await detailedHealth(silent, token)).body).sort()).toEqual(["checks", "pid", "status"]);
    }
  });

  it("names the database's address to operators only", async () => {
    const { text } = await health(refused);
    expect(text).not.toContain(String(refusedPort));
    expect(text).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/);
    const { body } = await detailedHealth(refused);
    expect(body.checks.database.error).toContain(`127.0.0.1:${refusedPort}`);
  });
});

describe("health without Redis", () => {
  let server: TestServer;
  beforeAll(async () => {
    // Nothing listens on port 1: the Redis client keeps retrying in the background.
    server = await startTestServer({ REDIS_URL: "redis://127.0.0.1:1" });
  });
  afterAll(() => server.close());

  it("is degraded (200), still ready, and keeps serving", async () => {
    const { status, body } = await health(server);
    expect(status).toBe(200);
    expect(body.status).toBe("degraded");
    expect(body.checks.redis.status).toBe("down");
    expect((await fetch(`${server.url}/api/health/ready`)).status).toBe(200);
  });
});

describe.skipIf(!redisUrl)("health when Redis goes away at run time", () => {
  const setup = serverWithCuttableRedisForSuite();

  it("degrades while it is gone and recovers by itself when it is back", async () => {
    expect((await health(setup.server)).body.checks.redis.status).toBe("up");
    await setup.redis.cut();
    await vi.waitFor(
      async () => expect((await health(setup.server)).body).toMatchObject({ status: "degraded", checks: { redis: { status: "down" } } }),
      {
        timeout: 5_000,
        interval: 200,
      },
    );
    await setup.redis.restore();
    await vi.waitFor(async () => expect((await health(setup.server)).body.status).toBe("healthy"), { timeout: 8_000, interval: 200 });
  });
});

describe("the Neon driver path", () => {
  let proxy: NeonWsProxy;
  let server: TestServer;
  beforeAll(async () => {
    const target = new URL(databaseUrl);
    proxy = await startNeonWsProxy({ targetHost: target.hostname, targetPort: Number(target.port || 5432) });
    server = await startTestServer({ DB_DRIVER: "neon", DB_NEON_WS_PROXY: proxy.wsProxy });
  });
  afterAll(async () => {
    await server.close();
    await proxy.close();
  });

  it("serves health through Postgres over a WebSocket", async () => {
    const { status, body } = await health(server);
    expect(status).toBe(200);
    expect(body.checks.database.status).toBe("up");
    expect(body.checks.queue.status).toBe("up");
  });

  it("runs drizzle queries and transactions over it", async () => {
    const result = await server.container.db.transaction((tx) => tx.execute<{ answer: number }>(sql`select 41 + 1 as answer`));
    expect(result.rows[0]?.answer).toBe(42);
  });
});
