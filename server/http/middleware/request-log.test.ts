import type { AddressInfo } from "node:net";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { captureLog, startTestServer, type CapturedLog, type TestServer } from "../../test/harness.ts";
import { requestContext } from "../../core/request-context.ts";
import { requestLog, SLOW_AFTER_MS, WARN_AFTER_MS } from "./request-log.ts";

/** The line is written when the server closes the response, which may come just after the client has read it. */
const lineOf = (log: CapturedLog, match: (entry: Record<string, unknown>) => boolean) =>
  expect.poll(() => log.lines.find(match), { timeout: 2_000, interval: 10 });

describe("the latency log of the real application", () => {
  let log: CapturedLog;
  let server: TestServer;
  beforeAll(async () => {
    log = captureLog();
    server = await startTestServer({}, log);
  });
  afterAll(() => server.close());

  it("writes one line per request with the route template, status, duration and request id", async () => {
    const response = await fetch(`${server.url}/api/health/live`, { headers: { "x-request-id": "probe-1" } });
    expect(response.status).toBe(200);
    await lineOf(log, (entry) => entry.requestId === "probe-1").toMatchObject({
      level: 30,
      method: "GET",
      route: "/api/health/live",
      status: 200,
      msg: "request",
      durationMs: expect.any(Number),
    });
  });

  it("never writes cookies, authorization headers or bodies", async () => {
    await fetch(`${server.url}/api/anything`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: "sid=very-secret-cookie", authorization: "Bearer secret-token-value" },
      body: JSON.stringify({ password: "hunter2-password" }),
    });
    await lineOf(log, (entry) => entry.route === "(unmatched)" && entry.status === 404).toBeDefined();
    expect(log.text()).not.toMatch(/very-secret-cookie|secret-token-value|hunter2-password/);
  });
});

describe("latency thresholds", () => {
  const log = captureLog();
  let url: string;
  let close: () => void;
  /** A clock the handler moves: /wait/:ms takes that long as the log measures it, at once. */
  let clock = 0;
  beforeAll(async () => {
    const app = express();
    app.use(requestLog(log.logger, () => clock));
    app.get("/wait/:ms", (req, res) => {
      log.logger.info("inside the handler");
      clock += Number(req.params.ms);
      res.json({ ok: true });
    });
    const server = app.listen(0);
    await new Promise((resolve) => server.once("listening", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });
  afterAll(() => close());

  it("is info below 500 ms, warn from 500 ms, and an error flagged slow from 1 s", async () => {
    for (const ms of [WARN_AFTER_MS - 1, WARN_AFTER_MS, SLOW_AFTER_MS - 1, SLOW_AFTER_MS]) {
      const response = await fetch(`${url}/wait/${ms}`, { headers: { "x-request-id": `wait-${ms}` } });
      expect(response.status).toBe(200);
      await lineOf(log, (entry) => entry.requestId === `wait-${ms}`).toBeDefined();
    }
    const lines = log.lines.filter((entry) => entry.msg === "request");
    expect(lines.map((entry) => [entry.durationMs, entry.level, entry.route, entry.slow])).toEqual([
      [WARN_AFTER_MS - 1, 30, "/wait/:ms", undefined],
      [WARN_AFTER_MS, 40, "/wait/:ms", undefined],
      [SLOW_AFTER_MS - 1, 40, "/wait/:ms", undefined],
      [SLOW_AFTER_MS, 50, "/wait/:ms", true],
    ]);
  });

  it("carries the request id into every line logged while the request runs", async () => {
    await fetch(`${url}/wait/0`, { headers: { "x-request-id": "inner-42" } });
    expect(log.lines.find((entry) => entry.msg === "inside the handler" && entry.requestId === "inner-42")).toBeDefined();
  });
});

describe("the logger", () => {
  it("redacts credentials wherever a caller passes them, and adds the request context", () => {
    const log = captureLog();
    requestContext.run({ requestId: "r-1", userId: "u-7" }, () =>
      log.logger.info(
        {
          headers: { cookie: "a=cookie-value", authorization: "Basic auth-value" },
          password: "password-value",
          user: { token: "token-value" },
        },
        "x",
      ),
    );
    expect(log.text()).not.toMatch(/cookie-value|auth-value|password-value|token-value/);
    expect(log.lines[0]).toMatchObject({ requestId: "r-1", userId: "u-7", password: "[redacted]" });
  });
});
