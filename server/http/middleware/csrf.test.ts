import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HttpClient, startTestServer, type TestServer } from "../../test/harness.ts";

const APP_ORIGIN = "https://app.example.test";
const ADMIN_ORIGIN = "https://admin.example.test";
const FOREIGN_ORIGIN = "https://evil.example";

const registration = () => ({ email: `user-${randomUUID()}@example.test`, password: "correct horse battery", name: "Ada" });

describe("CSRF protection", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ APP_URL: `${APP_ORIGIN}/app`, CSRF_TRUSTED_ORIGINS: ADMIN_ORIGIN });
  });
  afterAll(() => server.close());

  const send = (method: string, path: string, headers: Record<string, string>, body?: string) =>
    fetch(`${server.url}${path}`, { method, headers, body });
  const json = (origin?: Record<string, string>) => ({ "content-type": "application/json", ...origin });
  const expectRefused = async (response: Response, status: number, code: string) => {
    expect(response.status).toBe(status);
    expect(await response.json()).toMatchObject({ error: { code } });
  };

  it("refuses a cross-site form post with 403", async () => {
    const form = new URLSearchParams({ email: "a@example.test", password: "whatever" }).toString();
    const response = await send(
      "POST",
      "/api/auth/login",
      { "content-type": "application/x-www-form-urlencoded", origin: FOREIGN_ORIGIN },
      form,
    );
    await expectRefused(response, 403, "forbidden");
  });

  it("refuses JSON from a foreign, a look-alike or a null Origin with 403", async () => {
    for (const origin of [
      FOREIGN_ORIGIN,
      "http://app.example.test",
      "https://app.example.test.evil.example",
      "https://app.example.test:8443",
      "null",
    ]) {
      const response = await send("POST", "/api/auth/register", json({ origin }), JSON.stringify(registration()));
      await expectRefused(response, 403, "forbidden");
    }
    // Whatever the method, when it changes state; even without a body.
    await expectRefused(await send("POST", "/api/auth/logout", { origin: FOREIGN_ORIGIN }), 403, "forbidden");
    await expectRefused(await send("DELETE", "/api/communities/x/members/y", { origin: FOREIGN_ORIGIN }), 403, "forbidden");
  });

  it("lets trusted origins through: APP_URL's and CSRF_TRUSTED_ORIGINS'", async () => {
    for (const origin of [APP_ORIGIN, ADMIN_ORIGIN]) {
      const response = await send("POST", "/api/auth/register", json({ origin }), JSON.stringify(registration()));
      expect(response.status).toBe(201);
    }
  });

  it("lets a page of the server itself through (its own scheme and Host), not another port or host of the same machine", async () => {
    const own = new URL(server.url);
    const response = await send("POST", "/api/auth/register", json({ origin: own.origin }), JSON.stringify(registration()));
    expect(response.status).toBe(201);
    for (const origin of [
      `http://${own.hostname}:${Number(own.port) + 1}`,
      `https://${own.host}`,
      `http://localhost.evil.example:${own.port}`,
    ]) {
      await expectRefused(await send("POST", "/api/auth/register", json({ origin }), JSON.stringify(registration())), 403, "forbidden");
    }
  });

  it("judges by the Referer when there is no Origin", async () => {
    const foreign = await send("POST", "/api/auth/register", json({ referer: `${FOREIGN_ORIGIN}/page` }), JSON.stringify(registration()));
    await expectRefused(foreign, 403, "forbidden");
    const garbled = await send("POST", "/api/auth/register", json({ referer: "not a url" }), JSON.stringify(registration()));
    await expectRefused(garbled, 403, "forbidden");
    const trusted = await send(
      "POST",
      "/api/auth/register",
      json({ referer: `${APP_ORIGIN}/app/signup?x=1` }),
      JSON.stringify(registration()),
    );
    expect(trusted.status).toBe(201);
  });

  it("lets requests without Origin or Referer through (scripts, scanners, curl)", async () => {
    const client = new HttpClient(server.url);
    expect((await client.post("/api/auth/register", registration())).status).toBe(201);
    expect((await client.post("/api/auth/logout")).status).toBe(204);
  });

  it("leaves reads alone", async () => {
    const response = await send("GET", "/api/auth/me", { origin: FOREIGN_ORIGIN });
    await expectRefused(response, 401, "unauthenticated");
  });

  it("refuses bodies that are not JSON with 415, whatever their origin", async () => {
    const body = JSON.stringify(registration());
    const notJson: Array<Record<string, string>> = [
      { "content-type": "text/plain" },
      { "content-type": "text/plain;charset=UTF-8", origin: APP_ORIGIN },
      { "content-type": "application/x-www-form-urlencoded", origin: APP_ORIGIN },
      { "content-type": "multipart/form-data; boundary=x", origin: APP_ORIGIN },
      {},
    ];
    for (const headers of notJson) {
      const response = await send("POST", "/api/auth/register", headers, body);
      await expectRefused(response, 415, "unsupported_media_type");
    }
    const vendorJson = await send(
      "POST",
      "/api/auth/register",
      { "content-type": "application/vnd.api+json" },
      JSON.stringify(registration()),
    );
    expect(vendorJson.status).toBe(201);
  });
});
