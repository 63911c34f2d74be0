import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseUrl } from "../test/harness.ts";
import { withDatabase } from "../test/services.ts";
import { primaryLine, startCluster, waitFor, type ClusterProcess, type JsonLine } from "../test/cluster-process.ts";

/**
 * A background worker killed outright leaves the jobs it had locked behind it,
 * and its last request may even lock one after its death (a query it sent
 * just before a network cut, executed when the cut heals). graphile-worker
 * alone would free them only 4 hours later; the replacement worker releases
 * them and runs them within seconds. The cluster runs on a database of its
 * own, so that no other test's worker takes these jobs.
 */

/** The sweep runs every 2 s; the bound leaves room for a busy machine. */
const RELEASE_BOUND_MS = 15_000;

describe("a background worker killed while it holds jobs", () => {
  const database = `dead_worker_${Date.now()}_${randomBytes(3).toString("hex")}`;
  const admin = new pg.Pool({ connectionString: withDatabase(databaseUrl, "postgres"), max: 1 });
  const direct = new pg.Pool({ connectionString: withDatabase(databaseUrl, database), max: 2 });
  let cluster: ClusterProcess | undefined;
  /** The name the killed worker's job runner locked its jobs under. */
  let deadRunner: string;

  beforeAll(async () => {
    // The database is dropped with whatever is still connected to it: an idle connection of the pool may hear so.
    direct.on("error", () => undefined);
    await admin.query(`create database ${database}`);
    cluster = await startCluster({
      env: { DATABASE_URL: withDatabase(databaseUrl, database), REDIS_URL: undefined, WEB_CONCURRENCY: "1" },
    });
    await cluster.waitUntilServing();
    // graphile-worker logs each completed job with its row, whose locked_by names the runner that took it.
    const key = await addJob();
    const completed = await cluster.waitForLog((line) => completedJob(line.json)?.key === key, 15_000);
    deadRunner = String(completedJob(completed.json)?.locked_by);
    const [victim] = cluster.readyPids("worker");
    const firstLineAfterKill = cluster.lines.length;
    process.kill(victim!, "SIGKILL");
    await cluster.waitForLog(primaryLine("child exit", { child: "worker", childPid: victim }), 10_000, firstLineAfterKill);
  }, 90_000);

  afterAll(async () => {
    await cluster?.kill();
    await direct.end();
    await admin.query(`drop database if exists ${database} with (force)`);
    await admin.end();
  });

  /** A cleanup job, due now; its key. */
  async function addJob(lockedBy?: string): Promise<string> {
    const key = `dead-worker-${randomBytes(4).toString("hex")}`;
    const client = await direct.connect();
    try {
      // One transaction: no live runner can take the job before it is locked.
      await client.query("begin");
      await client.query("select graphile_worker.add_job('maintenance.cleanup', '{}'::json, job_key => $1)", [key]);
      if (lockedBy) {
        await client.query("update graphile_worker._private_jobs set locked_at = now(), locked_by = $2 where key = $1", [key, lockedBy]);
      }
      await client.query("commit");
    } finally {
      client.release();
    }
    return key;
  }

  async function msUntilRun(key: string): Promise<number> {
    const from = performance.now();
    const gone = async () => (await direct.query("select 1 from graphile_worker.jobs where key = $1", [key])).rowCount === 0;
    await waitFor(gone, RELEASE_BOUND_MS, `job ${key}, locked by the dead worker, to run`);
    return Math.round(performance.now() - from);
  }

  it("runs the jobs it had locked once its replacement has started, instead of 4 hours later", async () => {
    const key = await addJob(deadRunner);
    const ranInMs = await msUntilRun(key);
    console.info(`[dead worker] a job locked by the killed worker ran ${ranInMs} ms after it was locked`);
    expect(cluster!.readyPids("worker")).toHaveLength(1);
  }, 30_000);

  it("runs a job its last request locked after its replacement had started (a query delivered late)", async () => {
    await waitFor(() => cluster!.readyPids("worker").length === 1, 20_000, "the replacement worker to be ready");
    const key = await addJob(deadRunner);
    const ranInMs = await msUntilRun(key);
    console.info(`[dead worker] a job locked late by the killed worker ran ${ranInMs} ms after it was locked`);
  }, 30_000);
});

function completedJob(json: JsonLine | undefined): { key?: unknown; locked_by?: unknown } | undefined {
  if (json?.role !== "worker" || typeof json.msg !== "string" || !json.msg.startsWith("Completed task")) return undefined;
  const meta = json.meta as { job?: { key?: unknown; locked_by?: unknown } } | undefined;
  return meta?.job;
}
