import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseUrl, redisUrl, redisSkipReason, startTestServer, type EnvOverrides, type TestServer } from "../../test/harness.ts";
import { insertCommunity, signedInUser } from "../../test/factories.ts";
import { startTcpProxy, type TcpProxy } from "../../test/tcp-proxy.ts";
import { rateLimitRejections } from "../../infra/metrics.ts";
import { addressKey } from "./rate-limit.ts";

/**
 * Rate limits against the real server and the real Redis, with small allowances (the other test files run with
 * RATE_LIMIT_MULTIPLIER=1000). Each server counts under a Redis key prefix of its own, and clients are told apart by
 * X-Forwarded-For (TRUST_PROXY), so that no test meets another's counters.
 */

/** This run's prefix (as testEnv sets it), then one of this server's own. */
const ownKeyPrefix = () => `${new URL(databaseUrl).pathname.slice(1)}:rl-test-${randomUUID().slice(0, 8)}:`;

function limitedServer(overrides: EnvOverrides): Promise<TestServer> {
  return startTestServer({ RATE_LIMIT_MULTIPLIER: "1", TRUST_PROXY: "true", REDIS_KEY_PREFIX: ownKeyPrefix(), ...overrides });
}

/** A documentation address (RFC 5737) of its own for each call. */
let lastOctet = 0;
const freshAddress = () => `198.51.100.${(lastOctet += 1)}`;

function from(server: TestServer, address: string, path = "/api/plans", init: RequestInit = {}): Promise<Response> {
  return fetch(`${server.url}${path}`, { ...init, headers: { "x-forwarded-for": address, ...init.headers } });
}

async function statuses(server: TestServer, address: string, count: number, path?: string): Promise<number[]> {
  const answers: number[] = [];
  for (let index = 0; index < count; index += 1) answers.push((await from(server, address, path)).status);
  return answers;
}

interface ErrorBody {
  error: { code: string; policy?: string; requestId?: string };
}

const rejections = async (limiter: string) =>
  (await rateLimitRejections.get()).values.find((value) => value.labels.limiter === limiter)?.value ?? 0;

describe("addressKey", () => {
  it("keeps IPv4 as is, takes IPv4-mapped IPv6 as IPv4, and reduces IPv6 to its /64", () => {
    expect(addressKey("203.0.113.9")).toBe("203.0.113.9");
    expect(addressKey("::ffff:203.0.113.9")).toBe("203.0.113.9");
    expect(addressKey("2001:db8:a:b:1:2:3:4")).toBe("2001:db8:a:b::/64");
    expect(addressKey("2001:0DB8:000a:b::9")).toBe("2001:db8:a:b::/64");
    expect(addressKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(addressKey("::1")).toBe("0:0:0:0::/64");
    expect(addressKey("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(addressKey(undefined)).toBe("unknown");
  });
});

describe.skipIf(!redisUrl)(`rate limits of anonymous clients (Redis: ${redisSkipReason || "yes"})`, () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await limitedServer({ RATE_LIMIT_ANONYMOUS_PER_MIN: "5", RATE_LIMIT_AUTH_PER_MIN: "3" });
  });
  afterAll(() => server.close());

  it("advertises the address's allowance, then answers 429 rate_limited with Retry-After once it is spent", async () => {
    const address = freshAddress();
    const before = await rejections("per-ip");
    const first = await from(server, address);
    expect(first.status).toBe(200);
    expect(first.headers.get("ratelimit-policy")).toBe('"per-ip";q=5;w=60');
    expect(first.headers.get("ratelimit")).toMatch(/^"per-ip";r=4;t=(60|59)$/);
    expect(await statuses(server, address, 4)).toEqual([200, 200, 200, 200]);

    const refused = await from(server, address);
    expect(refused.status).toBe(429);
    const body = (await refused.json()) as ErrorBody;
    expect(body.error).toMatchObject({ code: "rate_limited", policy: "per-ip", requestId: expect.any(String) });
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers.get("ratelimit")).toBe(`"per-ip";r=0;t=${retryAfter}`);
    expect(await rejections("per-ip")).toBe(before + 1);
    // Another client is not affected.
    expect((await from(server, freshAddress())).status).toBe(200);
  });

  it("counts an IPv6 client by its /64: two addresses of one network share an allowance, the next network has its own", async () => {
    const sameNetwork = ["2001:db8:1:2::1", "2001:db8:1:2:ffff::9"];
    const answers = [];
    for (let index = 0; index < 6; index += 1) answers.push((await from(server, sameNetwork[index % 2]!)).status);
    expect(answers).toEqual([200, 200, 200, 200, 200, 429]);
    expect((await from(server, "2001:db8:1:3::1")).status).toBe(200);
  });

  it("blocks for RATE_LIMIT_BLOCK_S (300 s) a client that sends twice its allowance within the window", async () => {
    const address = freshAddress();
    await statuses(server, address, 6);
    const withinWindow = Number((await from(server, address)).headers.get("retry-after"));
    expect(withinWindow).toBeLessThanOrEqual(60);
    expect(await statuses(server, address, 2)).toEqual([429, 429]);
    // The 10th request reached twice the allowance of 5.
    const blocked = await from(server, address);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(290);
    expect(Number((await from(server, address)).headers.get("retry-after"))).toBeGreaterThan(290);
  });

  it("never counts or refuses health checks and webhooks, even for a client over its allowance", async () => {
    const address = freshAddress();
    await statuses(server, address, 6);
    for (const path of ["/api/health", "/api/health/live", "/api/health/ready"]) {
      const answer = await from(server, address, path);
      expect(answer.status, path).toBe(200);
      expect(answer.headers.get("ratelimit"), path).toBeNull();
    }
    const webhook = await from(server, address, "/api/webhooks/stripe", {
      method: "POST",
      body: "{}",
      headers: { "content-type": "application/json" },
    });
    expect(webhook.status).not.toBe(429);
    expect(webhook.headers.get("ratelimit")).toBeNull();
  });

  it("limits sign-in attempts per address more tightly than other requests, and lists both policies", async () => {
    const address = freshAddress();
    const signIn = () =>
      from(server, address, "/api/auth/login", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: `nobody-${randomUUID()}@example.test`, password: "wrong password" }),
      });
    const first = await signIn();
    expect(first.status).toBe(401);
    expect(first.headers.get("ratelimit-policy")).toBe('"per-ip";q=5;w=60, "sign-in";q=3;w=60');
    expect([(await signIn()).status, (await signIn()).status]).toEqual([401, 401]);
    const refused = await signIn();
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as ErrorBody).error.policy).toBe("sign-in");
    // The address still has one request of its general allowance for anything else.
    expect((await from(server, address)).status).toBe(200);
  });

  it("limits registrations and password-reset requests per address the same way", async () => {
    for (const [path, body] of [
      ["/api/auth/register", { email: "not an email", password: "x", name: "X" }],
      ["/api/auth/password-reset", { email: "not an email" }],
    ] as const) {
      const address = freshAddress();
      const post = () =>
        from(server, address, path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      expect([(await post()).status, (await post()).status, (await post()).status], path).toEqual([400, 400, 400]);
      expect((await post()).status, path).toBe(429);
    }
  });
});

describe.skipIf(!redisUrl)("rate limits of signed-in users", () => {
  let server: TestServer;
  beforeAll(async () => {
    // ×0.05: the free plan's 120 a minute become 6, pro's 600 become 30; sign-ins and addresses stay out of the way.
    server = await limitedServer({
      RATE_LIMIT_MULTIPLIER: "0.05",
      RATE_LIMIT_ANONYMOUS_PER_MIN: "2000",
      RATE_LIMIT_AUTH_PER_MIN: "2000",
      RATE_LIMIT_CHECKIN_PER_MIN: "80",
    });
  });
  afterAll(() => server.close());

  it("gives each user the allowance of their best plan, counted per user whatever the address", async () => {
    const free = await signedInUser(server, "Fred Free");
    const pro = await signedInUser(server, "Paula Pro");
    await insertCommunity(server, [{ user: pro, role: "member" }], "pro");

    const freeAnswers = [];
    for (let index = 0; index < 7; index += 1) {
      freeAnswers.push((await free.client.get("/api/auth/me", { "x-forwarded-for": freshAddress() })).status);
    }
    expect(freeAnswers).toEqual([200, 200, 200, 200, 200, 200, 429]);

    const proAnswer = await pro.client.get("/api/auth/me");
    expect(proAnswer.headers.get("ratelimit-policy")).toBe('"per-user";q=30;w=60');
    for (let index = 0; index < 7; index += 1) expect((await pro.client.get("/api/auth/me")).status).toBe(200);
  });

  it("limits check-in scans per staff member (80 a minute by default here ×0.05 = 4), each member on their own", async () => {
    const [staff, otherStaff] = [await signedInUser(server, "Sam Staff"), await signedInUser(server, "Sue Staff")];
    // An event the scanner may not see: the scan is counted before anything is looked up, and answered 404.
    const scan = (user: typeof staff) => user.client.post(`/api/events/${randomUUID()}/checkins`, { code: "x" });
    const answers = [];
    for (let index = 0; index < 5; index += 1) answers.push((await scan(staff)).status);
    expect(answers).toEqual([404, 404, 404, 404, 429]);
    expect((await scan(otherStaff)).status).toBe(404);
  });
});

describe.skipIf(!redisUrl)("the global limit of an instance", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await limitedServer({ RATE_LIMIT_GLOBAL_PER_S: "3" });
  });
  afterAll(() => server.close());

  it("refuses requests beyond its allowance a second, from any client, without advertising it nor ever blocking", async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => from(server, freshAddress())));
    const refused = answers.filter((answer) => answer.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    const body = (await refused[0]!.json()) as ErrorBody;
    expect(body.error.policy).toBe("global");
    expect(refused[0]!.headers.get("ratelimit-policy")).not.toContain("global");
    // Far more than twice the allowance within its second, and yet no block: every client may come back the next second.
    expect(refused.map((answer) => answer.headers.get("retry-after"))).toEqual(refused.map(() => "1"));
  });
});

describe.skipIf(!redisUrl)("when Redis is cut", () => {
  let server: TestServer;
  let relay: TcpProxy;
  let keyPrefix: string;
  let redis: Redis;
  beforeAll(async () => {
    const target = new URL(redisUrl!);
    relay = await startTcpProxy(target.hostname, Number(target.port || 6379));
    keyPrefix = ownKeyPrefix();
    server = await limitedServer({
      REDIS_URL: `redis://127.0.0.1:${relay.port}`,
      REDIS_KEY_PREFIX: keyPrefix,
      RATE_LIMIT_ANONYMOUS_PER_MIN: "5",
    });
    redis = new Redis(redisUrl!);
  });
  afterAll(async () => {
    await server.close();
    await relay.close();
    redis.disconnect();
  });

  const counterInRedis = (address: string) => redis.get(`${keyPrefix}rl:per-ip:5:${address}`);

  it("counts with the in-memory insurance limiter at once, still refusing a client over its allowance, and returns to Redis", async () => {
    await relay.cut("refuse");
    const address = freshAddress();
    const started = performance.now();
    expect(await statuses(server, address, 6)).toEqual([200, 200, 200, 200, 200, 429]);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(await counterInRedis(address)).toBeNull();

    await relay.restore();
    await expect.poll(() => server.container.redis?.status, { timeout: 10_000 }).toBe("ready");
    const afterwards = freshAddress();
    expect(await statuses(server, afterwards, 2)).toEqual([200, 200]);
    expect(await counterInRedis(afterwards)).toBe("2");
  });

  it("answers within the store's deadline when Redis stops answering without closing (a partition)", async () => {
    await relay.cut("drop");
    try {
      const address = freshAddress();
      const started = performance.now();
      const answer = await from(server, address);
      expect(answer.status).toBe(200);
      // 500 ms of deadline, then the insurance limiter: far from the 2 s of the Redis client's command timeout.
      expect(performance.now() - started).toBeLessThan(1_500);
    } finally {
      await relay.restore();
    }
  });
});
