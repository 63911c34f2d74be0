import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { captureLog, startTestServer, type CapturedLog, type TestServer } from "../../test/harness.ts";
import { shedRequests } from "../../infra/metrics.ts";
import { LOAD_WINDOW_MS, LoadMonitor } from "../../infra/load.ts";

/**
 * Load shedding of one worker, in this process: requests held in flight by their clients (a body that has not all
 * arrived), and an event loop kept busy by this very process, which is the loop the server runs on.
 */

const sheddings = async (reason: string) => (await shedRequests.get()).values.find((value) => value.labels.reason === reason)?.value ?? 0;

/** A sign-in whose body is announced but not all sent: the request is in flight until the client ends or cuts it. */
function heldSignIn(port: number): { socket: net.Socket; finish(): Promise<string> } {
  const body = JSON.stringify({ email: "nobody@example.test", password: "not the password" });
  const socket = net.connect({ host: "127.0.0.1", port });
  socket.on("error", () => undefined);
  let answer = "";
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => (answer += chunk));
  const ended = new Promise<string>((resolve) => socket.once("close", () => resolve(answer)));
  socket.write(
    `POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
  );
  return {
    socket,
    finish() {
      socket.write(body.slice(10));
      return ended;
    },
  };
}

describe("load shedding on requests in flight", () => {
  let server: TestServer;
  let log: CapturedLog;
  beforeAll(async () => {
    log = captureLog();
    server = await startTestServer({ SHED_MAX_IN_FLIGHT: "2" }, log);
  });
  afterAll(() => server.close());

  it("refuses at once with 503 overloaded and Retry-After past the limit, never probes nor webhooks, and admits again as requests end, cut ones included", async () => {
    const port = Number(new URL(server.url).port);
    const before = await sheddings("in_flight");
    const held = [heldSignIn(port), heldSignIn(port)];
    await expect.poll(() => server.container.load.inFlight, { timeout: 5_000 }).toBe(2);

    const refused = await fetch(`${server.url}/api/plans`, { headers: { "x-request-id": "shed-1" } });
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(await refused.json()).toEqual({
      error: { code: "overloaded", message: "too many requests in progress, retry shortly", requestId: "shed-1" },
    });
    expect(await sheddings("in_flight")).toBe(before + 1);
    await expect
      .poll(() => log.lines.find((line) => line.msg === "request" && line.requestId === "shed-1"))
      .toMatchObject({ status: 503, method: "GET" });

    expect((await fetch(`${server.url}/api/health/live`)).status).toBe(200);
    expect((await fetch(`${server.url}/API/Health`)).status).toBe(200);
    const webhook = await fetch(`${server.url}/api/webhooks/stripe`, { method: "POST", body: "{}" });
    expect(((await webhook.json()) as { error: { code: string } }).error.code).not.toBe("overloaded");

    held[0]?.socket.destroy();
    expect(await held[1]?.finish()).toMatch(/^HTTP\/1\.1 401/);
    await expect.poll(() => server.container.load.inFlight, { timeout: 5_000 }).toBe(0);
    expect((await fetch(`${server.url}/api/plans`)).status).toBe(200);
  });
});

describe("load shedding on event-loop delay", () => {
  let server: TestServer;
  let busy: NodeJS.Timeout | undefined;
  beforeAll(async () => {
    server = await startTestServer({ SHED_MAX_EVENT_LOOP_DELAY_MS: "100" });
  });
  afterAll(async () => {
    clearInterval(busy);
    await server.close();
  });

  /** Keeps the loop busy 150 ms out of every 200, as CPU-bound work would: each window's delay is about 150 ms. */
  const keepLoopBusy = () =>
    setInterval(() => {
      const until = performance.now() + 150;
      while (performance.now() < until);
    }, 50);

  it("does not refuse for a lone stall of the loop (a collection, a moment without a CPU)", async () => {
    const monitor = new LoadMonitor({ maxInFlight: 0, maxEventLoopDelayMs: 100 });
    try {
      await new Promise((resolve) => setTimeout(resolve, LOAD_WINDOW_MS * 1.5));
      const until = performance.now() + 250;
      while (performance.now() < until);
      const refusals = new Set<string | undefined>();
      const watchUntil = performance.now() + LOAD_WINDOW_MS * 3;
      while (performance.now() < watchUntil) {
        refusals.add(monitor.refusal());
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect([...refusals]).toEqual([undefined]);
    } finally {
      monitor.stop();
    }
  });

  it("refuses requests while the loop lags, lets probes through, and serves again once it is back", async () => {
    const before = await sheddings("event_loop_delay");
    busy = keepLoopBusy();
    await expect
      .poll(async () => (await fetch(`${server.url}/api/plans`)).status, { timeout: 10 * LOAD_WINDOW_MS, interval: 20 })
      .toBe(503);
    expect(server.container.load.eventLoopDelayMs).toBeGreaterThan(100);
    expect((await fetch(`${server.url}/api/health/live`)).status).toBe(200);
    expect(await sheddings("event_loop_delay")).toBeGreaterThan(before);

    clearInterval(busy);
    const calmAt = performance.now();
    await expect
      .poll(async () => (await fetch(`${server.url}/api/plans`)).status, { timeout: 10 * LOAD_WINDOW_MS, interval: 20 })
      .toBe(200);
    console.info(`[load-shedding] served again ${Math.round(performance.now() - calmAt)} ms after the loop calmed down`);
  });
});
