import { randomUUID } from "node:crypto";
import { eq, inArray, sql } from "drizzle-orm";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sessions } from "../../shared/schema/index.ts";
import { loadConfig } from "../config/env.ts";
import { buildContainer, type Container } from "../container.ts";
import { enqueueJob } from "../infra/queue.ts";
import { cleanupJob } from "../modules/maintenance/index.ts";
import { testEnv } from "../test/harness.ts";
import { startJobRunner } from "./runner.ts";
import { jobContext } from "./context.ts";
import { defineJob } from "./job.ts";
import { z } from "zod";
import { jobFailures } from "../infra/metrics.ts";

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
    const { runner } = await startJobRunner({
      pool: container.pool,
      concurrency: 1,
      jobs: [cleanupJob],
      context: jobContext(container),
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

  it("counts each failed attempt of a job under its task", async () => {
    // A task of its own: no other test's runner takes its jobs.
    const failing = defineJob({
      name: `test.failing-${randomUUID()}`,
      payload: z.object({}),
      handle: () => Promise.reject(new Error("this job always fails")),
    });
    const failures = async () => (await jobFailures.get()).values.find((value) => value.labels.task === failing.name)?.value ?? 0;
    const { runner } = await startJobRunner({ pool: container.pool, concurrency: 1, jobs: [failing], context: jobContext(container) });
    try {
      await enqueueJob(container.db, failing, {}, { maxAttempts: 2, jobKey: failing.name });
      await expect.poll(failures, { timeout: 10_000, interval: 100 }).toBe(1);
    } finally {
      await runner.stop();
      await container.db.execute(sql`select graphile_worker.remove_job(${failing.name})`);
    }
  });
});
