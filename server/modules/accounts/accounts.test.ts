import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HttpClient, redisUrl, serverWithCuttableRedisForSuite, startTestServer, type TestServer } from "../../test/harness.ts";

const newEmail = () => `user-${randomUUID()}@example.test`;
const PASSWORD = "correct horse battery";

async function register(client: HttpClient, email = newEmail()) {
  const response = await client.post("/api/auth/register", { email, password: PASSWORD, name: "Ada" });
  return { response, email };
}

describe("accounts", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it("registers, signs the new user in, and refuses the same email twice whatever its case", async () => {
    const client = new HttpClient(server.url);
    const { response, email } = await register(client);
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ user: { id: expect.any(String), email, name: "Ada" } });
    expect((await client.get("/api/auth/me")).status).toBe(200);
    const again = await register(new HttpClient(server.url), email.toUpperCase());
    expect(again.response.status).toBe(409);
    expect(await again.response.json()).toMatchObject({ error: { code: "conflict" } });
  });

  it("validates input with messages that name the field", async () => {
    const response = await new HttpClient(server.url).post("/api/auth/register", { email: "nope", password: "short", name: "" });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string; message: string; details: Array<{ path: string }> } };
    expect(body.error.code).toBe("validation_failed");
    expect(body.error.details.map((detail) => detail.path).sort()).toEqual(["email", "name", "password"]);
    expect(body.error.message).toMatch(/email: Invalid email/);
  });

  it("refuses a wrong password and an unknown email alike", async () => {
    const { email } = await register(new HttpClient(server.url));
    const wrong = await new HttpClient(server.url).post("/api/auth/login", { email, password: "not the password" });
    const unknown = await new HttpClient(server.url).post("/api/auth/login", { email: newEmail(), password: PASSWORD });
    expect([wrong.status, unknown.status]).toEqual([401, 401]);
    expect(await wrong.json()).toMatchObject({ error: { code: "invalid_credentials", message: "wrong email or password" } });
    expect(await unknown.json()).toMatchObject({ error: { code: "invalid_credentials", message: "wrong email or password" } });
  });

  it("regenerates the session id at login and ends the session at logout", async () => {
    const { email } = await register(new HttpClient(server.url));
    const client = new HttpClient(server.url);
    client.cookie = "sid=s%3Aplanted-by-an-attacker.signature";
    const login = await client.post("/api/auth/login", { email, password: PASSWORD });
    expect(login.status).toBe(200);
    expect(client.cookie).not.toContain("planted-by-an-attacker");
    const sessionCookie = client.cookie;
    expect((await client.post("/api/auth/logout")).status).toBe(204);
    // The old cookie, replayed, is worth nothing: the session was destroyed in the store.
    const replay = new HttpClient(server.url);
    replay.cookie = sessionCookie;
    expect((await replay.get("/api/auth/me")).status).toBe(401);
  });

  it("sets an httpOnly, SameSite=Lax session cookie with an expiry", async () => {
    const { response } = await register(new HttpClient(server.url));
    const cookie = response.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^sid=/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Expires=/);
  });

  it("answers 401 in the error shape without a session", async () => {
    const response = await new HttpClient(server.url).get("/api/auth/me");
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: "unauthenticated" } });
  });
});

/** Two applications over the same store stand for two workers (or two instances). */
describe.each([
  ["Redis", redisUrl],
  ["Postgres (local mode)", undefined],
])("sessions in %s", (_store, sessionRedisUrl) => {
  let first: TestServer;
  let second: TestServer;
  const skip = _store === "Redis" && !redisUrl;
  beforeAll(async () => {
    if (skip) return;
    first = await startTestServer({ REDIS_URL: sessionRedisUrl });
    second = await startTestServer({ REDIS_URL: sessionRedisUrl });
  });
  afterAll(async () => {
    await first?.close();
    await second?.close();
  });

  it.skipIf(skip)("are shared: signed in on one worker, known to another", async () => {
    expect(first.container.redis === undefined).toBe(sessionRedisUrl === undefined);
    const client = new HttpClient(first.url);
    const { email } = await register(client);
    const onSecond = new HttpClient(second.url);
    onSecond.cookie = client.cookie;
    const me = await onSecond.get("/api/auth/me");
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ user: { email } });
  });
});

describe.skipIf(!redisUrl)("sessions while Redis is away", () => {
  const setup = serverWithCuttableRedisForSuite();

  it("answers 503 unavailable with Retry-After, never 500 or a hang, and works again once it is back", async () => {
    const client = new HttpClient(setup.server.url);
    await register(client);
    await setup.redis.cut();
    const during = await client.get("/api/auth/me");
    expect(during.status).toBe(503);
    expect(during.headers.get("retry-after")).toBe("2");
    expect(await during.json()).toMatchObject({ error: { code: "unavailable" } });
    await setup.redis.restore();
    await expect.poll(async () => (await client.get("/api/auth/me")).status, { timeout: 8_000, interval: 200 }).toBe(200);
  });
});
