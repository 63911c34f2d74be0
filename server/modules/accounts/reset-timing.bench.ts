import { afterAll, bench, describe } from "vitest";
import { startTestServer } from "../../test/harness.ts";
import { newEmail, registered } from "./test-support.ts";

/**
 * Whether `POST /api/auth/password-reset` takes as long for an unknown email as
 * for an account's (it must not tell who has an account). A benchmark, not a
 * test: `npx vitest bench --run server/modules/accounts` prints both, to compare.
 */
const server = await startTestServer();
const known = (await registered(server)).email;

async function ask(email: string): Promise<void> {
  const response = await fetch(`${server.url}/api/auth/password-reset`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email }),
  });
  if (response.status !== 202) throw new Error(`HTTP ${response.status}`);
}

describe("password reset request timing", () => {
  afterAll(() => server.close());
  bench("an account's email", () => ask(known), { time: 3_000, warmupTime: 500 });
  bench("an unknown email", () => ask(newEmail()), { time: 3_000, warmupTime: 500 });
});
