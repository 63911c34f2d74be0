import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisUrl, startTestServer, type TestServer } from "../test/harness.ts";
import { signedInUser } from "../test/factories.ts";

const IDLE_S = 3_600;

describe.skipIf(!redisUrl)("sessions in Redis", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ SESSION_IDLE_HOURS: "1", SESSION_MAX_HOURS: "2" });
  });
  afterAll(() => server.close());

  it("expire by themselves after the idle timeout, counted again from each request", async () => {
    const member = await signedInUser(server);
    // The cookie holds `s:<id>.<signature>`, URL-encoded.
    const sid = /^s:([^.]+)\./.exec(decodeURIComponent(member.client.cookie?.split("=")[1] ?? ""))?.[1];
    const key = `${server.container.config.redisKeyPrefix}sess:${sid}`;
    const redis = server.container.redis;
    if (!sid || !redis) throw new Error("no session cookie or no Redis");
    expect(await redis.ttl(key)).toBeGreaterThan(IDLE_S - 60);
    expect(await redis.ttl(key)).toBeLessThanOrEqual(IDLE_S);

    await redis.expire(key, 60);
    expect((await member.client.get("/api/auth/me")).status).toBe(200);
    expect(await redis.ttl(key)).toBeGreaterThan(IDLE_S - 60);
  });
});
