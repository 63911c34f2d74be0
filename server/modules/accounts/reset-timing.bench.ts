import { afterAll, bench, describe } from "vitest";
import { startTestServer } from "../../test/harness.ts";
import { insertUsers, names } from "../../test/factories.ts";
import { newEmail, uniqueIp } from "./test-support.ts";

/**
 * Whether `POST /api/auth/password-reset` takes as long for an unknown email as
 * for an account's (it must not tell who has an account). A benchmark, not a
 * test: `npm run bench:reset-timing` prints both, to compare. Requests cycle
 * through many accounts and client addresses, so that none reaches its reset
 * limit (server/modules/accounts/throttles.ts) and every one does the full work.
 */
const server = await startTestServer({ TRUST_PROXY: "true" });
const accounts = (await insertUsers(server, names("Timed", 2_000))).map((user) => user.email);
let next = 0;

async function ask(email: string): Promise<void> {
  const response = await fetch(`${server.url}/api/auth/password-reset`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": uniqueIp() },
    body: JSON.stringify({ email }),
  });
  if (response.status !== 202) throw new Error(`HTTP ${response.status}`);
}

describe("password reset request timing", () => {
  afterAll(() => server.close());
  bench("an account's email", () => ask(accounts[next++ % accounts.length] as string), { time: 3_000, warmupTime: 500 });
  bench("an unknown email", () => ask(newEmail()), { time: 3_000, warmupTime: 500 });
});
