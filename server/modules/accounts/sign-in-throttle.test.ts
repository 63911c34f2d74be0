import { setTimeout as sleep } from "node:timers/promises";
import { eq, inArray, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loginFailures, passwordResets, users } from "../../../shared/schema/index.ts";
import { startTestServer, type TestServer } from "../../test/harness.ts";
import { deleteExpiredSignInRows } from "./sign-in-cleanup.ts";
import { login, newEmail, PASSWORD, registered, uniqueIp } from "./test-support.ts";

const WRONG = "not the password";

/**
 * Every request of these tests carries its own X-Forwarded-For address unless
 * the test is about one address, so that counts stay within their test.
 */
describe("sign-in throttling", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ TRUST_PROXY: "true" });
  });
  afterAll(() => server.close());

  const statuses = async (attempts: number, attempt: () => Promise<Response>) => {
    const seen: number[] = [];
    for (let i = 0; i < attempts; i++) seen.push((await attempt()).status);
    return seen;
  };
  const retryAfter = (response: Response) => Number(response.headers.get("retry-after"));
  const accountKey = (email: string) => eq(loginFailures.key, `email:${email}`);

  it("lets 5 failures through, then blocks the account for 2^(n-5) s, even for the right password", async () => {
    const { email } = await registered(server);
    expect(await statuses(6, () => login(server, email, WRONG))).toEqual([401, 401, 401, 401, 401, 401]);

    const blocked = await login(server, email, WRONG);
    expect(blocked.status).toBe(429);
    expect(await blocked.json()).toMatchObject({ error: { code: "rate_limited" } });
    expect(retryAfter(blocked)).toBeGreaterThanOrEqual(1);
    expect(retryAfter(blocked)).toBeLessThanOrEqual(2);
    const rightButBlocked = await login(server, email, PASSWORD);
    expect(rightButBlocked.status).toBe(429);

    // Once the block ends, the next failure blocks for twice as long.
    await sleep(retryAfter(rightButBlocked) * 1000 + 100);
    expect((await login(server, email, WRONG)).status).toBe(401);
    const longer = await login(server, email, PASSWORD);
    expect(longer.status).toBe(429);
    expect(retryAfter(longer)).toBeGreaterThanOrEqual(3);
    expect(retryAfter(longer)).toBeLessThanOrEqual(4);

    // Its end brought forward: the right password signs in and clears the account's count.
    await server.container.db
      .update(loginFailures)
      .set({ blockedUntil: sql`now() - interval '1 second'` })
      .where(accountKey(email));
    expect((await login(server, email, PASSWORD)).status).toBe(200);
    expect(await server.container.db.select().from(loginFailures).where(accountKey(email))).toEqual([]);
    expect(await statuses(6, () => login(server, email, WRONG))).toEqual([401, 401, 401, 401, 401, 401]);
    expect((await login(server, email, WRONG)).status).toBe(429);
  });

  it("throttles an unknown email like a known one", async () => {
    const email = newEmail();
    expect(await statuses(6, () => login(server, email, WRONG))).toEqual([401, 401, 401, 401, 401, 401]);
    const blocked = await login(server, email, WRONG);
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get("retry-after")).toMatch(/^[12]$/);
  });

  it("checks one guess at a time once the free failures are spent, however many arrive together", async () => {
    const { email } = await registered(server);
    await statuses(5, () => login(server, email, WRONG));
    const together = await Promise.all(Array.from({ length: 10 }, () => login(server, email, WRONG)));
    expect(together.map((response) => response.status).sort()).toEqual([401, ...Array<number>(9).fill(429)]);
  });

  it("starts the count over after 15 minutes without a failure", async () => {
    const { email } = await registered(server);
    await statuses(5, () => login(server, email, WRONG));
    await server.container.db
      .update(loginFailures)
      .set({ lastFailureAt: sql`now() - interval '15 minutes 1 second'` })
      .where(accountKey(email));
    expect(await statuses(6, () => login(server, email, WRONG))).toEqual([401, 401, 401, 401, 401, 401]);
    expect((await login(server, email, WRONG)).status).toBe(429);
  });

  it("blocks an address guessing across accounts, and only that address", async () => {
    const address = uniqueIp();
    const accounts = await Promise.all(Array.from({ length: 7 }, () => registered(server)));
    let next = 0;
    const guesses = await statuses(6, () => login(server, accounts[next++]?.email ?? "", WRONG, address));
    expect(guesses).toEqual([401, 401, 401, 401, 401, 401]);

    const target = accounts[6]?.email ?? "";
    const blocked = await login(server, target, PASSWORD, address);
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get("retry-after")).toMatch(/^[12]$/);
    expect((await login(server, target, PASSWORD, uniqueIp())).status).toBe(200);
  });

  it("clears the account's count on success, not the address's", async () => {
    const address = uniqueIp();
    const { email } = await registered(server);
    expect(await statuses(4, () => login(server, email, WRONG, address))).toEqual([401, 401, 401, 401]);
    expect((await login(server, email, PASSWORD, address)).status).toBe(200);
    // The account starts afresh: six more failures before a block...
    expect(await statuses(6, () => login(server, email, WRONG))).toEqual([401, 401, 401, 401, 401, 401]);
    // ...while the address keeps its four: two more failures, elsewhere, block it.
    const other = await registered(server);
    expect(await statuses(2, () => login(server, other.email, WRONG, address))).toEqual([401, 401]);
    expect((await login(server, other.email, PASSWORD, address)).status).toBe(429);
  });

  it("counts wrong current passwords of a password change against the account", async () => {
    const { client, email } = await registered(server);
    const change = () => client.post("/api/auth/password", { currentPassword: WRONG, newPassword: "a brand new passphrase" });
    expect(await statuses(6, change)).toEqual([401, 401, 401, 401, 401, 401]);
    expect((await change()).status).toBe(429);
    // The same account key: sign-in from elsewhere waits as well.
    expect((await login(server, email, PASSWORD)).status).toBe(429);
  });

  it("leaves rows that no longer matter to the hourly cleanup", async () => {
    const { email } = await registered(server);
    const [user] = await server.container.db.select({ id: users.id }).from(users).where(eq(users.email, email));
    const userId = user?.id ?? "";
    const [stale, fresh] = [`email:stale-${email}`, `email:fresh-${email}`];
    await server.container.db.insert(loginFailures).values([
      { key: stale, failures: 9, lastFailureAt: sql`now() - interval '16 minutes'` },
      { key: fresh, failures: 9, lastFailureAt: sql`now() - interval '14 minutes'` },
    ]);
    await server.container.db.insert(passwordResets).values([
      { userId, tokenHash: `stale-${userId}`, expiresAt: sql`now() - interval '25 hours'` },
      { userId, tokenHash: `fresh-${userId}`, expiresAt: sql`now() - interval '23 hours'` },
    ]);

    const deleted = await deleteExpiredSignInRows(server.container.db);
    expect(deleted.loginFailures).toBeGreaterThanOrEqual(1);
    expect(deleted.passwordResets).toBeGreaterThanOrEqual(1);
    const keys = await server.container.db
      .select({ key: loginFailures.key })
      .from(loginFailures)
      .where(inArray(loginFailures.key, [stale, fresh]));
    expect(keys).toEqual([{ key: fresh }]);
    const resets = await server.container.db
      .select({ tokenHash: passwordResets.tokenHash })
      .from(passwordResets)
      .where(eq(passwordResets.userId, userId));
    expect(resets).toEqual([{ tokenHash: `fresh-${userId}` }]);
  });
});
