import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { captureLog, databaseUrl } from "../test/harness.ts";
import { withDatabase } from "../test/services.ts";
import { startTcpProxy, type CutMode, type TcpProxy } from "../test/tcp-proxy.ts";
import { primaryLine, sleep, startCluster, type ClusterProcess } from "../test/cluster-process.ts";
import { waitForDatabase } from "../infra/dependencies.ts";

/**
 * Waiting for the database at start: every kind of cut is waited for and the
 * wait ends by itself once the database answers; a configuration error is not
 * waited for, it fails with its message.
 */

/** This run's database, reached through the relay. */
function relayedUrl(proxy: TcpProxy): string {
  const url = new URL(databaseUrl);
  url.host = `127.0.0.1:${proxy.port}`;
  return url.toString();
}

describe("waiting for the database", () => {
  let proxy: TcpProxy;
  beforeAll(async () => {
    const target = new URL(databaseUrl);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
  });
  afterAll(() => proxy.close());

  // A dropped connection fails only when the probe gives up on it (3 s): the wait is longer than that.
  const cuts: Array<{ mode: CutMode; described: string; cutForMs: number }> = [
    { mode: "refuse", described: "refused", cutForMs: 1_500 },
    { mode: "reset", described: "reset", cutForMs: 1_500 },
    { mode: "drop", described: "dropped", cutForMs: 4_000 },
  ];
  for (const { mode, described, cutForMs } of cuts) {
    it(`waits while connections are ${described}, and returns once the database answers`, async () => {
      const log = captureLog();
      await proxy.cut(mode);
      let answered = false;
      const waiting = waitForDatabase(relayedUrl(proxy), log.logger).then(() => (answered = true));
      await sleep(cutForMs);
      expect(answered).toBe(false);
      await proxy.restore();
      const restoredAt = performance.now();
      await waiting;
      console.info(`[dependencies] ${mode}: answered ${Math.round(performance.now() - restoredAt)} ms after the restore`);
      expect(log.lines.map((line) => line.msg)).toEqual(["dependency not reachable; waiting", "dependency reachable again"]);
    });
  }

  it("fails at once, with the server's message, for a database that does not exist or an unknown role", async () => {
    const log = captureLog();
    await expect(waitForDatabase(withDatabase(databaseUrl, "no_such_database"), log.logger)).rejects.toThrow(
      'database "no_such_database" does not exist',
    );
    const unknownRole = new URL(databaseUrl);
    unknownRole.username = "no_such_role";
    // Trust authentication says the role does not exist; password authentication (the embedded Postgres) says it failed.
    await expect(waitForDatabase(unknownRole.toString(), log.logger)).rejects.toThrow(
      /role "no_such_role" does not exist|password authentication failed for user "no_such_role"/,
    );
    expect(log.lines).toEqual([]);
  });
});

describe("the primary's start", () => {
  let proxy: TcpProxy;
  let cluster: ClusterProcess | undefined;
  beforeAll(async () => {
    const target = new URL(databaseUrl);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
  });
  afterAll(async () => {
    await cluster?.kill();
    await proxy.close();
  });

  it("waits for a database that does not answer, forks nothing meanwhile, and starts once it answers", async () => {
    await proxy.cut("refuse");
    cluster = await startCluster({ env: { DATABASE_URL: relayedUrl(proxy), WEB_CONCURRENCY: "1" } });
    await cluster.waitForLog(primaryLine("dependency not reachable; waiting", { dependency: "database" }), 30_000);
    await sleep(1_000);
    expect(cluster.primaryLogs("fork")).toEqual([]);
    await proxy.restore();
    await cluster.waitUntilServing();
    expect(cluster.primaryLogs("dependency reachable again")).toHaveLength(1);
  }, 60_000);

  it("exits 1 at once, naming the cause, when the configured database does not exist", async () => {
    const started = await startCluster({ env: { DATABASE_URL: withDatabase(databaseUrl, "no_such_database"), WEB_CONCURRENCY: "1" } });
    const status = await started.exit;
    expect({ code: status.code, signal: status.signal }).toEqual({ code: 1, signal: null });
    expect(started.stderrText()).toContain('Could not start: database "no_such_database" does not exist');
    expect(started.primaryLogs("dependency not reachable; waiting")).toEqual([]);
    expect(await started.processesLeftAfter(2_000)).toEqual([]);
  }, 30_000);
});
