import { randomBytes } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { passwordResets, users } from "../../../shared/schema/index.ts";
import { captureLog, databaseUrl, startTestServer, type CapturedLog, type TestServer } from "../../test/harness.ts";
import { startTcpProxy, type TcpProxy } from "../../test/tcp-proxy.ts";
import { hashResetToken, RESET_TOKEN_TTL_S } from "./accounts.service.ts";
import { RESET_PER_ADDRESS_POLICY, RESET_PER_CLIENT_POLICY } from "./throttles.ts";
import { ClientAt, login, newEmail, PASSWORD, registered, requestResetToken, resetEmails } from "./test-support.ts";

const APP_URL = "https://app.example.test";
const NEW_PASSWORD = "a brand new passphrase";
const INVALID_TOKEN = { error: { code: "validation_failed", message: "token: invalid or expired", details: [{ path: "token" }] } };

describe("password reset", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ APP_URL, TRUST_PROXY: "true" });
  });
  afterAll(() => server.close());

  const confirm = (token: string, password = NEW_PASSWORD) =>
    new ClientAt(server.url).post("/api/auth/password-reset/confirm", { token, password });

  it("answers 202 for a known and an unknown email alike, and captures a link for the account only", async () => {
    const { email } = await registered(server);
    const known = await new ClientAt(server.url).post("/api/auth/password-reset", { email: email.toUpperCase() });
    const unknownEmail = newEmail();
    const unknown = await new ClientAt(server.url).post("/api/auth/password-reset", { email: unknownEmail });
    expect([known.status, unknown.status]).toEqual([202, 202]);
    expect(await known.json()).toEqual({});
    expect(await unknown.json()).toEqual({});

    expect(await resetEmails(server, unknownEmail)).toEqual([]);
    const [sent, ...others] = await resetEmails(server, email);
    expect(others).toEqual([]);
    expect(sent).toMatchObject({ toAddress: email, status: "captured", subject: "Reset your password" });
    const token = new RegExp(`${APP_URL}/reset-password\\?token=([A-Za-z0-9_-]+)`).exec(sent?.bodyText ?? "")?.[1] ?? "";
    expect(Buffer.from(token, "base64url")).toHaveLength(32);

    // Stored as its SHA-256, never as itself, for an hour.
    const [user] = await server.container.db.select({ id: users.id }).from(users).where(eq(users.email, email));
    const rows = await server.container.db
      .select({
        tokenHash: passwordResets.tokenHash,
        usedAt: passwordResets.usedAt,
        ttlS: sql<number>`extract(epoch from ${passwordResets.expiresAt} - ${passwordResets.createdAt})::int`,
      })
      .from(passwordResets)
      .where(eq(passwordResets.userId, user?.id ?? ""));
    expect(rows).toEqual([{ tokenHash: hashResetToken(token), usedAt: null, ttlS: RESET_TOKEN_TTL_S }]);
    expect(JSON.stringify(rows)).not.toContain(token);
  });

  it("validates the email", async () => {
    const response = await new ClientAt(server.url).post("/api/auth/password-reset", { email: "nope" });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: "validation_failed", details: [{ path: "email" }] } });
  });

  it("sets the new password once per link and ends every session of the account", async () => {
    const { client: first, email } = await registered(server);
    const second = new ClientAt(server.url);
    expect((await second.post("/api/auth/login", { email, password: PASSWORD })).status).toBe(200);
    const token = await requestResetToken(server, email);

    expect((await confirm(token)).status).toBe(204);
    expect((await first.get("/api/auth/me")).status).toBe(401);
    expect((await second.get("/api/auth/me")).status).toBe(401);
    expect((await login(server, email, PASSWORD)).status).toBe(401);
    expect((await login(server, email, NEW_PASSWORD)).status).toBe(200);

    const again = await confirm(token, "yet another passphrase");
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject(INVALID_TOKEN);
    expect((await login(server, email, NEW_PASSWORD)).status).toBe(200);
  });

  it("refuses unknown and expired tokens with the same 400, changing nothing", async () => {
    const { client, email } = await registered(server);
    const unknown = await confirm(randomBytes(32).toString("base64url"));
    const malformed = await confirm("not-a-token");
    const token = await requestResetToken(server, email);
    await server.container.db
      .update(passwordResets)
      .set({ expiresAt: sql`now() - interval '1 second'` })
      .where(eq(passwordResets.tokenHash, hashResetToken(token)));
    const expired = await confirm(token);

    for (const response of [unknown, malformed, expired]) {
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject(INVALID_TOKEN);
    }
    expect((await client.get("/api/auth/me")).status).toBe(200);
    expect((await login(server, email, PASSWORD)).status).toBe(200);
  });

  it("gives a token to one of two concurrent uses only", async () => {
    const { email } = await registered(server);
    const token = await requestResetToken(server, email);
    const statuses = await Promise.all([confirm(token, "first passphrase"), confirm(token, "second passphrase")]).then((responses) =>
      responses.map((response) => response.status).sort(),
    );
    expect(statuses).toEqual([204, 400]);
  });

  it("voids the account's other pending links once one is used", async () => {
    const { email } = await registered(server);
    const older = await requestResetToken(server, email);
    const newer = await requestResetToken(server, email);
    expect(older).not.toBe(newer);
    expect((await confirm(newer)).status).toBe(204);
    expect((await confirm(older, "yet another passphrase")).status).toBe(400);
  });

  it("checks the new password like a registration's", async () => {
    const { email } = await registered(server);
    const token = await requestResetToken(server, email);
    const response = await confirm(token, "short");
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: "validation_failed", details: [{ path: "password" }] } });
    // The token survives a refused password.
    expect((await confirm(token)).status).toBe(204);
  });
});

describe("reset emails cannot flood an inbox", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ TRUST_PROXY: "true" });
  });
  afterAll(() => server.close());

  const ask = (email: string, client = new ClientAt(server.url)) => client.post("/api/auth/password-reset", { email });
  const countBy = (statuses: number[]) =>
    statuses.reduce<Record<number, number>>((counts, status) => ({ ...counts, [status]: (counts[status] ?? 0) + 1 }), {});

  // The first request past the free ones still goes through, starting the first block.
  const perAddress = RESET_PER_ADDRESS_POLICY.freeHits + 1;
  const perClient = RESET_PER_CLIENT_POLICY.freeHits + 1;

  it(`sends ${perAddress} emails, not 300, when 300 requests for one address arrive at once, and answers an unknown address alike`, async () => {
    const { email } = await registered(server);
    const unknown = newEmail();
    const [known, stranger] = await Promise.all(
      [email, unknown].map(async (address) => {
        const responses = await Promise.all(Array.from({ length: 300 }, () => ask(address)));
        const limited = responses.filter((response) => response.status === 429);
        expect(limited.every((response) => Number(response.headers.get("retry-after")) >= 1)).toBe(true);
        return countBy(responses.map((response) => response.status));
      }),
    );
    expect(known).toEqual({ 202: perAddress, 429: 300 - perAddress });
    expect(stranger).toEqual(known);
    expect(await resetEmails(server, email)).toHaveLength(perAddress);
    expect(await resetEmails(server, unknown)).toHaveLength(0);
  });

  it("limits the emails one client address may ask for, to any addresses", async () => {
    const client = new ClientAt(server.url);
    const statuses: number[] = [];
    for (let index = 0; index < perClient + 2; index++) statuses.push((await ask(newEmail(), client)).status);
    expect(countBy(statuses)).toEqual({ 202: perClient, 429: 2 });
    // Another client is not concerned.
    expect((await ask(newEmail())).status).toBe(202);
  });
});

describe("password change", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ TRUST_PROXY: "true" });
  });
  afterAll(() => server.close());

  it("sets the new password, keeps this session under a new id and ends the others", async () => {
    const { client, email } = await registered(server);
    const other = new ClientAt(server.url);
    expect((await other.post("/api/auth/login", { email, password: PASSWORD })).status).toBe(200);
    const before = client.cookie;

    const response = await client.post("/api/auth/password", { currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
    expect(response.status).toBe(204);
    expect(client.cookie).not.toBe(before);
    expect((await client.get("/api/auth/me")).status).toBe(200);
    expect((await other.get("/api/auth/me")).status).toBe(401);
    const replay = new ClientAt(server.url);
    replay.cookie = before;
    expect((await replay.get("/api/auth/me")).status).toBe(401);

    expect((await login(server, email, PASSWORD)).status).toBe(401);
    expect((await login(server, email, NEW_PASSWORD)).status).toBe(200);
  });

  it("refuses a wrong current password with 401 invalid_credentials and changes nothing", async () => {
    const { client, email } = await registered(server);
    const response = await client.post("/api/auth/password", { currentPassword: "not the password", newPassword: NEW_PASSWORD });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: "invalid_credentials", details: [{ path: "currentPassword" }] } });
    expect((await client.get("/api/auth/me")).status).toBe(200);
    expect((await login(server, email, PASSWORD)).status).toBe(200);
  });

  it("lets one of concurrent changes win, and tells the others their current password is no longer it", async () => {
    const { client, email } = await registered(server);
    const candidates = ["first", "second", "third", "fourth", "fifth"].map((word) => `${NEW_PASSWORD} ${word}`);
    const responses = await Promise.all(
      candidates.map((newPassword) => client.post("/api/auth/password", { currentPassword: PASSWORD, newPassword })),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 204)).toHaveLength(1);
    for (const response of responses.filter(({ status }) => status !== 204)) {
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ error: { code: "invalid_credentials", details: [{ path: "currentPassword" }] } });
    }
    const winner = candidates[statuses.indexOf(204)]!;
    expect((await login(server, email, winner)).status).toBe(200);
    for (const loser of candidates.filter((candidate) => candidate !== winner))
      expect((await login(server, email, loser)).status).toBe(401);
  });

  it("needs a session, then a valid new password", async () => {
    const anonymous = await new ClientAt(server.url).post("/api/auth/password", { currentPassword: PASSWORD, newPassword: "x" });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { code: "unauthenticated" } });
    const { client } = await registered(server);
    const short = await client.post("/api/auth/password", { currentPassword: PASSWORD, newPassword: "short" });
    expect(short.status).toBe(400);
    expect(await short.json()).toMatchObject({ error: { code: "validation_failed", details: [{ path: "newPassword" }] } });
  });
});

/** The token exists only in the email: not in log lines, not even in the error logged when the database fails. */
describe("reset tokens and logs", () => {
  let database: TcpProxy;
  let server: TestServer;
  let log: CapturedLog;
  beforeAll(async () => {
    const target = new URL(databaseUrl);
    database = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const proxied = new URL(databaseUrl);
    proxied.hostname = "127.0.0.1";
    proxied.port = String(database.port);
    log = captureLog("trace");
    server = await startTestServer({ DATABASE_URL: proxied.toString(), TRUST_PROXY: "true" }, log);
  });
  afterAll(async () => {
    await server.close();
    await database.close();
  });

  it("never writes a token or a reset link in the log", async () => {
    const { email } = await registered(server);
    const token = await requestResetToken(server, email);
    expect((await new ClientAt(server.url).post("/api/auth/password-reset/confirm", { token, password: NEW_PASSWORD })).status).toBe(204);

    await database.cut();
    const failed = await new ClientAt(server.url).post("/api/auth/password-reset", { email });
    expect(failed.status).toBe(503);
    expect(await failed.json()).toMatchObject({ error: { code: "unavailable" } });

    const text = log.text();
    expect(text).toContain("request failed");
    expect(text).not.toContain(token);
    expect(text).not.toContain("reset-password?token=");
    expect(text).not.toContain(email);
  });
});
