import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, it, vi, type ExpectStatic } from "vitest";
import { databaseUrl, redisUrl, startTestServer, type TestServer } from "../test/harness.ts";
import { startTcpProxy, type CutMode, type TcpProxy } from "../test/tcp-proxy.ts";
import { createCommunity, signedInUser, type TestUser } from "../test/factories.ts";
import { privateRedisSkipReason, startPrivateRedis } from "../test/private-redis.ts";
import { describeOutcome, overlapping, sleep, TrafficLoop, waitedSince, type Outcome } from "../test/traffic.ts";

/**
 * Dependency outages against the real server: the database cut three ways,
 * Redis frozen and refused. The scenarios run concurrently (they mostly wait),
 * every server built as in production, the console watched for any line that
 * is not JSON.
 */

/** The console as the file found it: the figures are printed through it while the product's console is watched. */
const report = console.info.bind(console);

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

/** Long enough for every kind of request to meet the cut, short enough to keep the suite quick. */
const CUT_MS = 3_000;
/** The promise to callers: an answer within this long of the cut, whatever the way the database went away. */
const ANSWER_WITHIN_MS = 2_500;
/** Sanity bound on recovery; the measured figure is printed. */
const RECOVERY_BOUND_MS = 10_000;

type Sessions = "redis" | "local";

interface Settled {
  endedAt: number;
  error: unknown;
}

/** A database operation's end and its error, if any: it must fail quickly once the database is cut. */
async function settle(operation: Promise<unknown>): Promise<Settled> {
  try {
    await operation;
    return { endedAt: performance.now(), error: undefined };
  } catch (error) {
    return { endedAt: performance.now(), error };
  }
}

interface HealthBody {
  status: string;
  checks: { database: { status: string; breaker: string } };
}

async function databaseHealth(server: TestServer): Promise<HealthBody> {
  return (await (await fetch(`${server.url}/api/health`)).json()) as HealthBody;
}

async function serverBehindRelay(sessions: Sessions): Promise<{ server: TestServer; relay: TcpProxy }> {
  const target = new URL(databaseUrl);
  const relay = await startTcpProxy(target.hostname, Number(target.port || 5432));
  const proxied = new URL(databaseUrl);
  proxied.hostname = "127.0.0.1";
  proxied.port = String(relay.port);
  const server = await startTestServer({
    DATABASE_URL: proxied.toString(),
    REDIS_URL: sessions === "redis" ? redisUrl : undefined,
    // Shorter than the cut: the public profile is then served past its TTL, from the cache's grace period.
    CACHE_COMMUNITY_TTL_S: "1",
    // Keys and invalidations of its own: another test's server clearing the profiles (a plan change does) would
    // otherwise take the graced entry away mid-cut.
    REDIS_KEY_PREFIX: `outage-${randomUUID()}:`,
  });
  return { server, relay };
}

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check() && performance.now() < deadline) await sleep(25);
}

const answeredNormally = (outcome: Outcome) => outcome.status !== undefined && outcome.status < 300;

async function databaseCut(expect: ExpectStatic, sessions: Sessions, mode: CutMode, rawOutput: string[]): Promise<void> {
  const { server, relay } = await serverBehindRelay(sessions);
  try {
    const { client: member } = await signedInUser(server);
    const community = await createCommunity(member);
    const loops = [
      new TrafficLoop("anonymous", () => fetch(`${server.url}/api/communities/${community.slug}`)),
      new TrafficLoop("signed in", () => member.get("/api/auth/me")),
      new TrafficLoop("write", () => member.post("/api/communities", { name: `Club ${randomUUID().slice(0, 8)}` })),
    ].map((loop) => loop.start());
    await sleep(300);

    // Queries on the wire when the cut comes: a lone one, and one inside a transaction.
    const { db } = server.container;
    const inFlight = [settle(db.execute(sql`select pg_sleep(0.5)`)), settle(db.transaction((tx) => tx.execute(sql`select pg_sleep(0.5)`)))];
    await sleep(50);
    const cutAt = performance.now();
    await relay.cut(mode);
    // And a transaction begun just after it: its `begin` is what meets the cut.
    inFlight.push(settle(db.transaction((tx) => tx.execute(sql`select 1`))));
    await sleep(CUT_MS);
    const during = await databaseHealth(server);
    const restoredAt = performance.now();
    await relay.restore();
    const recovered = () =>
      loops.every((loop) => loop.outcomes.some((outcome) => outcome.startedAt > restoredAt && answeredNormally(outcome)));
    await waitUntil(recovered, RECOVERY_BOUND_MS);
    await Promise.all(loops.map((loop) => loop.stop()));

    const outcomes = loops.flatMap((loop) => loop.outcomes);
    const duringCut = overlapping(outcomes, cutAt, restoredAt);
    const slowest = Math.max(...duringCut.map((outcome) => waitedSince(outcome, cutAt)));
    const recoveryMs = Math.max(
      ...loops.map(
        (loop) => (loop.outcomes.find((o) => o.startedAt > restoredAt && answeredNormally(o))?.endedAt ?? Infinity) - restoredAt,
      ),
    );
    const settled = await Promise.all(inFlight);
    report(
      `[database ${mode}, ${sessions} sessions] ${duringCut.length} requests during the cut, slowest answered ${Math.round(slowest)} ms after it; ` +
        `queries in flight failed after ${settled.map((s) => Math.round(s.endedAt - cutAt)).join(", ")} ms; normal answers ${Math.round(recoveryMs)} ms after the restore`,
    );

    // Every caller got an answer: a 503 in the error shape telling when to retry, or its normal answer; none waited long.
    for (const outcome of duringCut) {
      const unavailable = outcome.status === 503 && outcome.code === "unavailable" && outcome.retryAfter !== null;
      expect(unavailable || answeredNormally(outcome), describeOutcome(outcome)).toBe(true);
      expect(waitedSince(outcome, cutAt), describeOutcome(outcome)).toBeLessThanOrEqual(ANSWER_WITHIN_MS);
    }
    // Writes meet the cut; the public profile does not: the cache serves it, past its TTL, within the grace period.
    // (The signed-in user is cached too: those requests meet it only where sessions live in Postgres.)
    const [anonymous, , write] = loops;
    expect(
      overlapping(write!.outcomes, cutAt, restoredAt).some((outcome) => outcome.status === 503),
      "writes met the cut",
    ).toBe(true);
    expect(overlapping(anonymous!.outcomes, cutAt, restoredAt).map((outcome) => outcome.status)).not.toContain(503);
    for (const { endedAt, error } of settled) {
      expect(error).toBeDefined();
      expect(endedAt - cutAt).toBeLessThanOrEqual(ANSWER_WITHIN_MS);
    }
    expect(during.checks.database.status).toBe("down");
    expect(during.checks.database.breaker).not.toBe("closed");
    expect(rawOutput).toEqual([]);

    // Back without a restart, and nothing the outage touched stays checked out of the pool.
    expect(recoveryMs).toBeLessThanOrEqual(RECOVERY_BOUND_MS);
    await expect.poll(async () => (await databaseHealth(server)).checks.database).toMatchObject({ status: "up", breaker: "closed" });
    const { pool } = server.container;
    await expect.poll(() => pool.totalCount - pool.idleCount, { timeout: 2_000 }).toBe(0);
  } finally {
    await server.close();
    await relay.close();
  }
}

/** The stall of the incident: long enough for every command timeout and queued write to play out. */
const FREEZE_MS = 6_000;
const REFUSE_MS = 3_000;
/** Sanity bound on any answer during the outage: a session read's command timeout (2 s) plus the save as the response ends. */
const ANSWER_BOUND_MS = 5_000;
const MEMBERS = 4;
/** Redis commands give up after 2 s (server/infra/redis.ts): a request that waited most of that felt the outage. */
const FELT_AFTER_MS = 1_500;

const skipReason = privateRedisSkipReason();
if (skipReason) report(`[tests] Redis outage tests skipped: ${skipReason}`);

/** An interruption of Redis, as seen from the product: it starts, lasts, and ends. */
interface Interruption {
  name: string;
  durationMs: number;
  begin(): Promise<void> | void;
  end(): Promise<void> | void;
}

async function publicHealth(server: TestServer): Promise<{ checks: { redis: { status: string } } }> {
  return (await (await fetch(`${server.url}/api/health`)).json()) as { checks: { redis: { status: string } } };
}

async function sessionsThrough(expect: ExpectStatic, redisUrl: string, interruption: Interruption, rawOutput: string[]): Promise<void> {
  const server = await startTestServer({ REDIS_URL: redisUrl });
  try {
    const owner = await signedInUser(server, "Owner");
    const community = await createCommunity(owner.client);
    const members: TestUser[] = await Promise.all(Array.from({ length: MEMBERS }, () => signedInUser(server)));

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
    // The interruption reached the signed-in requests: one of them was refused, or waited out a Redis command's deadline (a
    // request that read its session just before a freeze answers 200 once the session's expiry refresh gives up).
    const felt = (outcome: (typeof outcomes)[number]) => outcome.status === 503 || waitedSince(outcome, startedAt) >= FELT_AFTER_MS;
    expect(outcomes.some((outcome) => outcome.label.startsWith("member") && felt(outcome))).toBe(true);
    expect(during.checks.redis.status).toBe("down");
    expect(rawOutput).toEqual([]);
  } finally {
    await server.close();
  }
}

const CUTS: CutMode[] = ["reset", "refuse", "drop"];

describe.concurrent("outages", () => {
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

  // Sessions in Postgres (local mode) and in Redis, side by side; without Redis the set-up says why it is left out. One
  // cut at a time: each drives its servers flat out from this very process, and two at once would starve each other's
  // database checks (a check without an answer within its second opens the breaker before the cut).
  it.sequential.for(CUTS)("a database cut of kind %s answers 503 at once and recovers alone", async (mode, { expect }) => {
    const sessionStores: Sessions[] = redisUrl ? ["local", "redis"] : ["local"];
    await Promise.all(sessionStores.map((sessions) => databaseCut(expect, sessions, mode, rawOutput)));
  });

  it.skipIf(skipReason)(
    "a 6 s Redis freeze signs nobody out; requests get 503 or their answer, none is reset; every log line is JSON",
    async ({ expect }) => {
      const redis = await startPrivateRedis();
      try {
        const freeze: Interruption = { name: "freeze", durationMs: FREEZE_MS, begin: redis.freeze, end: redis.thaw };
        await sessionsThrough(expect, redis.url, freeze, rawOutput);
      } finally {
        await redis.stop();
      }
    },
  );

  it.skipIf(skipReason)("a refused Redis connection does the same, and Redis is used again once it is back", async ({ expect }) => {
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
