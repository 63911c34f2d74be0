import type { AddressInfo } from "node:net";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { captureLog, startTestServer, type CapturedLog, type TestServer } from "../../test/harness.ts";
import { requestContext } from "../../core/request-context.ts";
import { requestLog, SLOW_AFTER_MS, WARN_AFTER_MS } from "./request-log.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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
    await sleep(50);
    const line = log.lines.find((entry) => entry.requestId === "probe-1");
    expect(line).toMatchObject({ level: 30, method: "GET", route: "/api/health/live", status: 200, msg: "request" });
    expect(line?.durationMs).toEqual(expect.any(Number));
  });

  it("never writes cookies, authorization headers or bodies", async () => {
    await fetch(`${server.url}/api/anything`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: "sid=very-secret-cookie", authorization: "Bearer secret-token-value" },
      body: JSON.stringify({ password: "hunter2-password" }),
    });
    await sleep(50);
    expect(log.text()).not.toMatch(/very-secret-cookie|secret-token-value|hunter2-password/);
    expect(log.lines.some((entry) => entry.route === "(unmatched)" && entry.status === 404)).toBe(true);
  });
});

describe("latency thresholds", () => {
  const log = captureLog();
  let url: string;
  let close: () => void;
  beforeAll(async () => {
    const app = express();
    app.use(requestLog(log.logger));
    app.get("/wait/:ms", async (req, res) => {
      log.logger.info("inside the handler");
      await sleep(Number(req.params.ms));
      res.json({ ok: true });
    });
    const server = app.listen(0);
    await new Promise((resolve) => server.once("listening", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });
  afterAll(() => close());

  it("is info below 500 ms, warn from 500 ms, and an error flagged slow from 1 s", async () => {
    await Promise.all([fetch(`${url}/wait/0`), fetch(`${url}/wait/${WARN_AFTER_MS + 50}`), fetch(`${url}/wait/${SLOW_AFTER_MS + 50}`)]);
    await sleep(50);
    const byRoute = log.lines.filter((entry) => entry.msg === "request").sort((a, b) => Number(a.durationMs) - Number(b.durationMs));
    expect(byRoute.map((entry) => [entry.level, entry.route, entry.slow])).toEqual([
      [30, "/wait/:ms", undefined],
      [40, "/wait/:ms", undefined],
      [50, "/wait/:ms", true],
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
