import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { describe, it, type ExpectStatic } from "vitest";
import { databaseUrl, redisUrl, startTestServer, type TestServer } from "../test/harness.ts";
import { startTcpProxy, type CutMode, type TcpProxy } from "../test/tcp-proxy.ts";
import { createCommunity, signedInUser } from "../test/factories.ts";
import { describeOutcome, overlapping, sleep, TrafficLoop, waitedSince, type Outcome } from "../test/traffic.ts";

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

async function health(server: TestServer): Promise<HealthBody> {
  return (await (await fetch(`${server.url}/api/health`)).json()) as HealthBody;
}

async function serverBehindRelay(sessions: Sessions): Promise<{ server: TestServer; relay: TcpProxy }> {
  const target = new URL(databaseUrl);
  const relay = await startTcpProxy(target.hostname, Number(target.port || 5432));
  const proxied = new URL(databaseUrl);
  proxied.hostname = "127.0.0.1";
  proxied.port = String(relay.port);
  const server = await startTestServer({ DATABASE_URL: proxied.toString(), REDIS_URL: sessions === "redis" ? redisUrl : undefined });
  return { server, relay };
}

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check() && performance.now() < deadline) await sleep(25);
}

const answeredNormally = (outcome: Outcome) => outcome.status !== undefined && outcome.status < 300;

async function outage(expect: ExpectStatic, sessions: Sessions, mode: CutMode): Promise<void> {
  const { server, relay } = await serverBehindRelay(sessions);
  try {
    const { client: member } = await signedInUser(server.url);
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
    const during = await health(server);
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
    console.info(
      `[database ${mode}, ${sessions} sessions] ${duringCut.length} requests during the cut, slowest answered ${Math.round(slowest)} ms after it; ` +
        `queries in flight failed after ${settled.map((s) => Math.round(s.endedAt - cutAt)).join(", ")} ms; normal answers ${Math.round(recoveryMs)} ms after the restore`,
    );

    // Every caller got an answer: a 503 in the error shape telling when to retry, or its normal answer; none waited long.
    for (const outcome of duringCut) {
      const unavailable = outcome.status === 503 && outcome.code === "unavailable" && outcome.retryAfter !== null;
      expect(unavailable || answeredNormally(outcome), describeOutcome(outcome)).toBe(true);
      expect(waitedSince(outcome, cutAt), describeOutcome(outcome)).toBeLessThanOrEqual(ANSWER_WITHIN_MS);
    }
    for (const loop of loops) {
      expect(
        overlapping(loop.outcomes, cutAt, restoredAt).some((outcome) => outcome.status === 503),
        `${loop.label} requests met the cut`,
      ).toBe(true);
    }
    for (const { endedAt, error } of settled) {
      expect(error).toBeDefined();
      expect(endedAt - cutAt).toBeLessThanOrEqual(ANSWER_WITHIN_MS);
    }
    expect(during.checks.database.status).toBe("down");
    expect(during.checks.database.breaker).not.toBe("closed");

    // Back without a restart, and nothing the outage touched stays checked out of the pool.
    expect(recoveryMs).toBeLessThanOrEqual(RECOVERY_BOUND_MS);
    await expect.poll(async () => (await health(server)).checks.database).toMatchObject({ status: "up", breaker: "closed" });
    const { pool } = server.container;
    await expect.poll(() => pool.totalCount - pool.idleCount, { timeout: 2_000 }).toBe(0);
  } finally {
    await server.close();
    await relay.close();
  }
}

const CUTS: CutMode[] = ["reset", "refuse", "drop"];

describe.concurrent("a database cut", () => {
  it.for(CUTS)("of kind %s answers 503 at once and recovers alone (sessions in Postgres)", (mode, { expect }) =>
    outage(expect, "local", mode),
  );

  it.skipIf(!redisUrl).for(CUTS)("of kind %s answers 503 at once and recovers alone (sessions in Redis)", (mode, { expect }) =>
    outage(expect, "redis", mode),
  );
});
