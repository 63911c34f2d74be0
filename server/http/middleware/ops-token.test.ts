import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../test/harness.ts";

const OPS_TOKEN = "ops-token-of-this-test-0123456789abcdef";

async function opsStatus(server: TestServer, authorization?: string): Promise<{ status: number; code: unknown }> {
  const response = await fetch(`${server.url}/api/ops/nothing-here`, { headers: authorization ? { authorization } : {} });
  const body = (await response.json()) as { error?: { code?: unknown } };
  return { status: response.status, code: body.error?.code };
}

describe("the operators' gate", () => {
  const servers: Record<string, TestServer> = {};
  beforeAll(async () => {
    servers.withToken = await startTestServer({ OPS_TOKEN });
    servers.productionWithoutToken = await startTestServer({ NODE_ENV: "production" });
    servers.developmentWithoutToken = await startTestServer({ NODE_ENV: "development" });
  });
  afterAll(() => Promise.all(Object.values(servers).map((server) => server.close())));

  it("lets only the token's bearer through when a token is configured", async () => {
    expect(await opsStatus(servers.withToken!)).toEqual({ status: 401, code: "unauthenticated" });
    expect(await opsStatus(servers.withToken!, `Bearer ${OPS_TOKEN}x`)).toEqual({ status: 401, code: "unauthenticated" });
    expect(await opsStatus(servers.withToken!, `Basic ${OPS_TOKEN}`)).toEqual({ status: 401, code: "unauthenticated" });
    // Through the gate, an unknown operators' path is a plain 404.
    expect(await opsStatus(servers.withToken!, `Bearer ${OPS_TOKEN}`)).toEqual({ status: 404, code: "not_found" });
  });

  it("hides the operators' endpoints in production without a token, and opens them to a development run", async () => {
    expect(await opsStatus(servers.productionWithoutToken!, `Bearer ${OPS_TOKEN}`)).toEqual({ status: 404, code: "not_found" });
    expect(await opsStatus(servers.developmentWithoutToken!)).toEqual({ status: 404, code: "not_found" });
  });
});
