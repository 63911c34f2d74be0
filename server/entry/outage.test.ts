import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseUrl } from "../test/harness.ts";
import { query, withDatabase } from "../test/services.ts";
import { startTcpProxy, type TcpProxy } from "../test/tcp-proxy.ts";
import { getHealth, primaryLine, sleep, startCluster, waitFor, type ClusterProcess } from "../test/cluster-process.ts";

/**
 * The database goes away for 30 s and a background worker dies meanwhile: the
 * service must not stop. The replacement waits for the database instead of
 * failing its start (and the primary never gives up because of it), and once
 * the database is back everything serves again by itself, and the jobs that
 * were waiting run. The cluster reaches Postgres through a relay that drops
 * every packet while cut (the hardest kind of cut: nothing fails, everything
 * hangs), on a database of its own, so no other test's worker runs its jobs.
 */

const OUTAGE_MS = 30_000;
const JOBS = 3;
/** Generous: recovery takes a few seconds (retries every 2 s at most, plus a worker's start). */
const RECOVERY_BOUND_MS = 20_000;

/** Milliseconds from `from` until the check passes. */
async function msUntil(from: number, check: () => boolean | Promise<boolean>, what: string): Promise<number> {
  await waitFor(check, 60_000, what);
  return Math.round(performance.now() - from);
}

describe("a 30 s database outage during which the background worker dies", () => {
  const database = `outage_${Date.now()}_${randomBytes(3).toString("hex")}`;
  const adminUrl = withDatabase(databaseUrl, "postgres");
  const directUrl = withDatabase(databaseUrl, database);
  let proxy: TcpProxy;
  let cluster: ClusterProcess | undefined;

  beforeAll(async () => {
    await query(adminUrl, `create database ${database}`);
    const target = new URL(databaseUrl);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const relayed = new URL(directUrl);
    relayed.host = `127.0.0.1:${proxy.port}`;
    // Local mode: sessions live in Postgres, so the cleanup job has expired sessions to delete.
    cluster = await startCluster({ env: { DATABASE_URL: relayed.toString(), REDIS_URL: undefined, WEB_CONCURRENCY: "1" } });
    await cluster.waitUntilServing();
  }, 90_000);

  afterAll(async () => {
    await cluster?.kill();
    await proxy?.close();
    await query(adminUrl, `drop database if exists ${database} with (force)`);
  });

  it(
    "keeps every process up, and once the database is back serves again within seconds and runs the jobs enqueued before",
    async () => {
      const started = cluster!;
      // Jobs due during the outage, each deleting an expired session when it runs (the cleanup job).
      const expired = Array.from({ length: JOBS }, (_, index) => `outage-${index}-${randomBytes(4).toString("hex")}`);
      await query(directUrl, `insert into sessions (sid, sess, expire) select unnest($1::text[]), '{}', now() - interval '1 minute'`, [
        expired,
      ]);
      const jobKeys = expired.map((sid) => `job-${sid}`);
      for (const key of jobKeys) {
        await query(
          directUrl,
          `select graphile_worker.add_job('maintenance.cleanup', '{}'::json, run_at => now() + interval '2 seconds', job_key => $1)`,
          [key],
        );
      }

      await proxy.cut("drop");
      const cutAt = performance.now();
      const [victim] = started.readyPids("worker");
      expect(victim).toBeDefined();
      const firstLineAfterKill = started.lines.length;
      process.kill(victim!, "SIGKILL");
      const replacementFork = await started.waitForLog(primaryLine("fork", { child: "worker" }), 10_000, firstLineAfterKill);
      await sleep(OUTAGE_MS - (performance.now() - cutAt));

      // Thirty seconds without a database: nothing gave up, nothing but the killed worker exited.
      expect(started.primaryLogs("giving up")).toEqual([]);
      const exits = started.lines.slice(firstLineAfterKill).filter(primaryLine("child exit"));
      expect(exits.map((line) => line.json?.childPid)).toEqual([victim]);
      expect(started.readyPids("worker")).toEqual([]);
      const live = await getHealth(started.port, { timeoutMs: 5_000 });
      const waiting = started.lines.filter(
        (line) =>
          line.json?.role === "worker" && line.json.msg === "dependency not reachable; waiting" && line.json.dependency === "database",
      );
      expect(waiting.length).toBeGreaterThan(0);

      await proxy.restore();
      const restoredAt = performance.now();
      const workerReadyMs = await msUntil(
        restoredAt,
        () => started.readyPids("worker").length === 1,
        "the new background worker to be ready",
      );
      const healthyMs = await msUntil(
        restoredAt,
        async () => {
          const outcome = await getHealth(started.port, { timeoutMs: 5_000 });
          return outcome.kind === "response" && outcome.status === 200;
        },
        "GET /api/health to answer 200",
      );
      const jobsDoneMs = await msUntil(
        restoredAt,
        async () =>
          (
            await query<{ count: number }>(directUrl, "select count(*)::int as count from graphile_worker.jobs where key = any($1)", [
              jobKeys,
            ])
          )[0]?.count === 0,
        "the jobs enqueued before the cut to run",
      );
      const sessionsLeft = await query(directUrl, "select sid from sessions where sid = any($1)", [expired]);
      console.info(
        `[outage] ${OUTAGE_MS / 1_000} s cut (drop), background worker killed at once and forked again (pid ${String(replacementFork.json?.childPid)}); ` +
          `during the cut GET /api/health answered ${live.kind === "response" ? live.status : live.code}; after the restore: ` +
          `worker ready in ${workerReadyMs} ms, /api/health 200 in ${healthyMs} ms, ${JOBS} pending jobs done in ${jobsDoneMs} ms`,
      );

      expect(sessionsLeft).toEqual([]);
      expect(started.primaryLogs("giving up")).toEqual([]);
      expect(Math.max(workerReadyMs, healthyMs, jobsDoneMs)).toBeLessThan(RECOVERY_BOUND_MS);
    },
    OUTAGE_MS + 60_000,
  );
});
