import { randomUUID } from "node:crypto";
import { eq, inArray, sql } from "drizzle-orm";
import { pino } from "pino";
import type { Runner } from "graphile-worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { jobRunners, sessions } from "../../shared/schema/index.ts";
import { loadConfig } from "../config/env.ts";
import { buildContainer, type Container } from "../container.ts";
import { enqueueJob } from "../infra/queue.ts";
import { cleanupJob } from "../modules/maintenance/index.ts";
import { testEnv } from "../test/harness.ts";
import { startJobRunner, unlockAbandonedJobs } from "./runner.ts";

async function pendingJobs(container: Container, key: string): Promise<number> {
  const result = await container.db.execute<{ count: number }>(
    sql`select count(*)::int as count from graphile_worker.jobs where key = ${key}`,
  );
  return result.rows[0]?.count ?? 0;
}

describe("the job queue", () => {
  let container: Container;
  beforeAll(async () => {
    container = await buildContainer(loadConfig(testEnv({ REDIS_URL: undefined })), "worker", pino({ level: "silent" }));
  });
  afterAll(() => container.close());

  it("enqueues in the caller's transaction: a rolled-back write leaves no job, a committed one does", async () => {
    const rolledBack = `test-${randomUUID()}`;
    await expect(
      container.db.transaction(async (tx) => {
        await enqueueJob(tx, cleanupJob, {}, { jobKey: rolledBack, runAt: new Date(Date.now() + 3_600_000) });
        throw new Error("the write failed");
      }),
    ).rejects.toThrow("the write failed");
    expect(await pendingJobs(container, rolledBack)).toBe(0);

    const committed = `test-${randomUUID()}`;
    await container.db.transaction((tx) => enqueueJob(tx, cleanupJob, {}, { jobKey: committed, runAt: new Date(Date.now() + 3_600_000) }));
    expect(await pendingJobs(container, committed)).toBe(1);
    await container.db.execute(sql`select graphile_worker.remove_job(${committed})`);
  });

  it("runs the cleanup job in the background worker: expired sessions go, live ones stay", async () => {
    const expired = `expired-${randomUUID()}`;
    const live = `live-${randomUUID()}`;
    await container.db.insert(sessions).values([
      { sid: expired, sess: {}, expire: new Date(Date.now() - 60_000) },
      { sid: live, sess: {}, expire: new Date(Date.now() + 60_000) },
    ]);
    const runner: Runner = await startJobRunner({
      pool: container.pool,
      concurrency: 1,
      jobs: [cleanupJob],
      context: { db: container.db, logger: container.logger },
    });
    try {
      await enqueueJob(container.db, cleanupJob, {});
      await expect
        .poll(
          async () =>
            (
              await container.db
                .select()
                .from(sessions)
                .where(inArray(sessions.sid, [expired, live]))
            ).map((row) => row.sid),
          {
            timeout: 10_000,
            interval: 100,
          },
        )
        .toEqual([live]);
    } finally {
      await runner.stop();
      await container.db.delete(sessions).where(eq(sessions.sid, live));
    }
  });

  it("frees the jobs of a runner that died within seconds, never those of a runner alive", async () => {
    const alive = await container.pool.connect();
    const keys = { dead: `dead-${randomUUID()}`, alive: `alive-${randomUUID()}` };
    const pools = { dead: `pool-dead-${randomUUID()}`, alive: `pool-alive-${randomUUID()}` };
    try {
      // As runners register their LISTEN connection's backend: the dead one's backend has ended since.
      const backend = async (client: { query: typeof alive.query }) =>
        ((await client.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0] as { pid: number }).pid;
      const gone = new pg.Client({ connectionString: container.config.database.directUrl });
      await gone.connect();
      const gonePid = await backend(gone);
      await gone.end();
      await container.db.insert(jobRunners).values([
        { poolId: pools.dead, listenPid: gonePid, updatedAt: sql`now() - interval '1 minute'` },
        { poolId: pools.alive, listenPid: await backend(alive) },
      ]);
      for (const which of ["dead", "alive"] as const) {
        await enqueueJob(container.db, cleanupJob, {}, { jobKey: keys[which], runAt: new Date(Date.now() + 3_600_000) });
        await container.db.execute(
          sql`update graphile_worker._private_jobs set locked_by = ${pools[which]}, locked_at = now() - interval '1 minute' where key = ${keys[which]}`,
        );
      }
      expect(await unlockAbandonedJobs(container.pool)).toContain(pools.dead);
      const lockedBy = async (key: string) =>
        (await container.db.execute<{ locked_by: string | null }>(sql`select locked_by from graphile_worker.jobs where key = ${key}`))
          .rows[0]?.locked_by;
      expect(await lockedBy(keys.dead)).toBeNull();
      expect(await lockedBy(keys.alive)).toBe(pools.alive);
      const registered = await container.db
        .select({ poolId: jobRunners.poolId })
        .from(jobRunners)
        .where(inArray(jobRunners.poolId, Object.values(pools)));
      expect(registered).toEqual([{ poolId: pools.alive }]);
    } finally {
      alive.release();
      await container.db.execute(
        sql`update graphile_worker._private_jobs set locked_by = null, locked_at = null where key = ${keys.alive}`,
      );
      for (const key of Object.values(keys)) await container.db.execute(sql`select graphile_worker.remove_job(${key})`);
      await container.db.delete(jobRunners).where(eq(jobRunners.poolId, pools.alive));
    }
  });

  it("registers each runner with the backend of its LISTEN connection", async () => {
    const startedAt = new Date();
    const runner = await startJobRunner({
      pool: container.pool,
      concurrency: 1,
      jobs: [cleanupJob],
      context: { db: container.db, logger: container.logger },
    });
    try {
      await expect
        .poll(
          async () =>
            (
              await container.db.execute<{ alive: boolean }>(
                sql`select exists (select 1 from job_runners join pg_stat_activity on pid = listen_pid
                      where updated_at >= ${startedAt.toISOString()}::timestamptz and query ilike 'LISTEN%') as alive`,
              )
            ).rows[0]?.alive,
          { timeout: 5_000, interval: 50 },
        )
        .toBe(true);
    } finally {
      await runner.stop();
    }
  });
});
