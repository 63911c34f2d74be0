import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { throttleCounters } from "../../../shared/schema/index.ts";
import { startTestServer, type TestServer } from "../../test/harness.ts";
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
  const accountKey = (email: string) => eq(throttleCounters.key, `email:${email}`);
  const endBlock = (email: string) =>
    server.container.db
      .update(throttleCounters)
      .set({ blockedUntil: sql`now() - interval '1 second'` })
      .where(accountKey(email));

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

    // Once the block ends (brought forward rather than waited for), the next failure blocks for twice as long.
    await endBlock(email);
    expect((await login(server, email, WRONG)).status).toBe(401);
    const longer = await login(server, email, PASSWORD);
    expect(longer.status).toBe(429);
    expect(retryAfter(longer)).toBeGreaterThanOrEqual(3);
    expect(retryAfter(longer)).toBeLessThanOrEqual(4);

    // Its end brought forward: the right password signs in and clears the account's count.
    await endBlock(email);
    expect((await login(server, email, PASSWORD)).status).toBe(200);
    expect(await server.container.db.select().from(throttleCounters).where(accountKey(email))).toEqual([]);
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
      .update(throttleCounters)
      .set({ lastHitAt: sql`now() - interval '15 minutes 1 second'` })
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
});
