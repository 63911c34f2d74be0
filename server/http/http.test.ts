import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../test/harness.ts";

describe("HTTP conventions", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ BODY_LIMIT_KB: "1" });
  });
  afterAll(() => server.close());

  it("answers unknown /api routes with 404 in the error shape, carrying the request id", async () => {
    const response = await fetch(`${server.url}/api/no-such-thing`);
    expect(response.status).toBe(404);
    const body = (await response.json()) as { error: { code: string; message: string; requestId: string } };
    expect(body.error.code).toBe("not_found");
    expect(body.error.requestId).toBe(response.headers.get("x-request-id"));
    expect(body.error.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("reuses a well-formed X-Request-Id and replaces anything else", async () => {
    const kept = await fetch(`${server.url}/api/health/live`, { headers: { "x-request-id": "lb-1234.abc" } });
    expect(kept.headers.get("x-request-id")).toBe("lb-1234.abc");
    const replaced = await fetch(`${server.url}/api/health/live`, { headers: { "x-request-id": "has spaces <and> tags" } });
    expect(replaced.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("answers malformed JSON with 400 validation_failed", async () => {
    const response = await fetch(`${server.url}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"name": ',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: "validation_failed", details: [{ path: "body" }] } });
  });

  it("answers a body over the tier's limit with 413 payload_too_large", async () => {
    const response = await fetch(`${server.url}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: "x".repeat(2048) }),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: { code: "payload_too_large" } });
  });

  it("sets security headers and hides the framework", async () => {
    const response = await fetch(`${server.url}/api/health/live`);
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("x-powered-by")).toBeNull();
  });

  it("keeps idle connections open longer than load balancers do (65 s)", async () => {
    const response = await fetch(`${server.url}/api/health/live`);
    expect(response.headers.get("keep-alive")).toBe("timeout=65");
  });
});

describe("idle keep-alive connections", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ HTTP_KEEP_ALIVE_TIMEOUT_MS: "500" });
  });
  afterAll(() => server.close());

  it("are closed by the server after the keep-alive timeout", async () => {
    // A bare socket: Node's own client agent would close it first, from the server's Keep-Alive hint less a second.
    const socket = net.connect({ host: "127.0.0.1", port: Number(new URL(server.url).port) });
    socket.setEncoding("utf8");
    let received = "";
    let idleSince = 0;
    const closed = new Promise<number>((resolve) => socket.once("close", () => resolve(performance.now() - idleSince)));
    socket.on("data", (chunk: string) => {
      received += chunk;
      if (received.includes('"alive"')) idleSince = performance.now();
    });
    socket.write("GET /api/health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    const idleMs = await closed;
    expect(received).toMatch(/^HTTP\/1\.1 200/);
    expect(idleMs).toBeGreaterThan(300);
    expect(idleMs).toBeLessThan(5_000);
  });
});
