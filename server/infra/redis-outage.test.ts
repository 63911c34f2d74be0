import { afterAll, beforeAll, describe, it, vi, type ExpectStatic } from "vitest";
import { startTestServer, type TestServer } from "../test/harness.ts";
import { createCommunity, signedInUser, type SignedInUser } from "../test/factories.ts";
import { privateRedisSkipReason, startPrivateRedis } from "../test/private-redis.ts";
import { startTcpProxy } from "../test/tcp-proxy.ts";
import { describeOutcome, overlapping, sleep, TrafficLoop, waitedSince } from "../test/traffic.ts";

/** The stall of the incident: long enough for every command timeout and queued write to play out. */
const FREEZE_MS = 6_000;
const REFUSE_MS = 3_000;
/** Sanity bound on any answer during the outage: a session read's command timeout (2 s) plus the save as the response ends. */
const ANSWER_BOUND_MS = 5_000;
const MEMBERS = 4;

/** The console as the test found it: the figures are printed through it while the product's console is watched. */
const report = console.info.bind(console);

const skipReason = privateRedisSkipReason();
if (skipReason) report(`[tests] Redis outage tests skipped: ${skipReason}`);

/** An interruption of Redis, as seen from the product: it starts, lasts, and ends. */
interface Interruption {
  name: string;
  durationMs: number;
  begin(): Promise<void> | void;
  end(): Promise<void> | void;
}

/**
 * Everything written to the console or the standard streams while the server
 * runs: pino writes into the captured log, so anything here is a line that is
 * not JSON (Express's final handler printing a stack, a library's warning).
 */
function watchRawOutput(written: string[]): void {
  const record = (...args: unknown[]) => void written.push(args.map(String).join(" "));
  for (const method of ["log", "info", "warn", "error", "debug"] as const) vi.spyOn(console, method).mockImplementation(record);
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, "write").mockImplementation((chunk: unknown) => {
      record(chunk);
      return true;
    });
  }
}

async function publicHealth(server: TestServer): Promise<{ checks: { redis: { status: string } } }> {
  return (await (await fetch(`${server.url}/api/health`)).json()) as { checks: { redis: { status: string } } };
}

async function sessionsThrough(expect: ExpectStatic, redisUrl: string, interruption: Interruption, rawOutput: string[]): Promise<void> {
  const server = await startTestServer({ REDIS_URL: redisUrl });
  try {
    const owner = await signedInUser(server.url, "Owner");
    const community = await createCommunity(owner.client);
    const members: SignedInUser[] = await Promise.all(Array.from({ length: MEMBERS }, () => signedInUser(server.url)));

    const loops = [
      ...members.map(({ client }, index) => new TrafficLoop(`member ${index}`, () => client.get("/api/auth/me"))),
      new TrafficLoop("anonymous", () => fetch(`${server.url}/api/communities/${community.slug}`)),
    ].map((loop) => loop.start());
    await sleep(200);
    const startedAt = performance.now();
    await interruption.begin();
    await sleep(1_000);
    const during = await publicHealth(server);
    await sleep(interruption.durationMs - 1_000);
    const endedAt = performance.now();
    await interruption.end();
    // Whatever was queued for Redis while it was away reaches it now.
    await sleep(1_000);
    await Promise.all(loops.map((loop) => loop.stop()));
    const stillSignedIn = await Promise.all(
      members.map(async ({ client }) => {
        let status = 503;
        for (let attempt = 0; attempt < 40 && status === 503; attempt += 1) {
          status = (await client.get("/api/auth/me")).status;
          if (status === 503) await sleep(200);
        }
        return status === 200;
      }),
    );

    const outcomes = loops.flatMap((loop) => overlapping(loop.outcomes, startedAt, endedAt));
    const slowest = Math.max(...outcomes.map((outcome) => waitedSince(outcome, startedAt)));
    report(
      `[redis ${interruption.name}] ${outcomes.length} requests during it, ${outcomes.filter((o) => o.status === 503).length} answered 503, ` +
        `slowest ${Math.round(slowest)} ms; members still signed in after it: ${stillSignedIn.filter(Boolean).length}/${MEMBERS}`,
    );

    expect(stillSignedIn).toEqual(members.map(() => true));
    for (const outcome of outcomes) {
      const member = outcome.label.startsWith("member");
      const allowed = member ? [200, 503] : [200];
      expect(allowed, describeOutcome(outcome)).toContain(outcome.status);
      if (outcome.status === 503) expect([outcome.code, outcome.retryAfter], describeOutcome(outcome)).toEqual(["unavailable", "2"]);
      expect(waitedSince(outcome, startedAt), describeOutcome(outcome)).toBeLessThanOrEqual(ANSWER_BOUND_MS);
    }
    expect(outcomes.some((outcome) => outcome.label.startsWith("member") && outcome.status === 503)).toBe(true);
    expect(during.checks.redis.status).toBe("down");
    expect(rawOutput).toEqual([]);
  } finally {
    await server.close();
  }
}

describe.skipIf(skipReason).concurrent("sessions through a Redis outage", () => {
  const rawOutput: string[] = [];
  beforeAll(() => {
    // Express prints what reaches its final handler only outside NODE_ENV=test: the servers are built as in production.
    vi.stubEnv("NODE_ENV", "production");
    watchRawOutput(rawOutput);
  });
  afterAll(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  it("a 6 s freeze signs nobody out; requests get 503 or their answer, none is reset; every log line is JSON", async ({ expect }) => {
    const redis = await startPrivateRedis();
    try {
      const freeze: Interruption = { name: "freeze", durationMs: FREEZE_MS, begin: redis.freeze, end: redis.thaw };
      await sessionsThrough(expect, redis.url, freeze, rawOutput);
    } finally {
      await redis.stop();
    }
  });

  it("a refused connection does the same, and Redis is used again once it is back", async ({ expect }) => {
    const redis = await startPrivateRedis();
    const relay = await startTcpProxy("127.0.0.1", redis.port);
    try {
      const refusal: Interruption = {
        name: "refused",
        durationMs: REFUSE_MS,
        begin: () => relay.cut("refuse"),
        end: () => relay.restore(),
      };
      await sessionsThrough(expect, `redis://127.0.0.1:${relay.port}`, refusal, rawOutput);
    } finally {
      await relay.close();
      await redis.stop();
    }
  });
});
