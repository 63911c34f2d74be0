import net from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../infra/free-port.ts";
import {
  countBy,
  describeOutcome,
  distinctPids,
  getHealth,
  holdRequest,
  primaryLine,
  reloadOnce,
  requestLoop,
  sendOnNewConnection,
  servingClusterForSuite,
  sleep,
  startCluster,
  type ClusterProcess,
  type HeldRequest,
  type Outcome,
} from "../test/cluster-process.ts";

/**
 * The real primary with two web workers and the background worker, as
 * production runs it: round-robin, restart after a crash, graceful stop, and
 * giving up when a worker cannot start (the rolling reload has a file of its own).
 */

const TEST_TIMEOUT_MS = 60_000;
/** A request to a live worker answers in milliseconds, even on a busy machine; one unanswered after this was stranded on a dead worker. */
const STRANDED_AFTER_MS = 2_000;
/** A sanity bound (about 1 s on an idle 2-CPU machine, printed), generous enough for a machine busy with other tests. */
const RESTART_BUDGET_MS = 6_000;
/** The default SHUTDOWN_TIMEOUT_MS: the drain of in-flight requests must end within it. */
const SHUTDOWN_TIMEOUT_MS = 10_000;

interface NewPidAnswer {
  pid: number;
  answeredAt: number;
  /** Requests that failed meanwhile (none expected: the survivor serves them). */
  failed: string[];
}

/** New connections until one is answered by a pid not in `known`: the replacement of a killed worker. */
async function firstAnswerFromNewPid(port: number, known: Set<number>, timeoutMs: number): Promise<NewPidAnswer> {
  const deadline = performance.now() + timeoutMs;
  const failed: string[] = [];
  while (performance.now() < deadline) {
    // A short timeout: a connection stranded on the dead worker must not hold up the measurement.
    const outcome = await getHealth(port, { timeoutMs: STRANDED_AFTER_MS });
    if (outcome.kind !== "response" || outcome.status !== 200) failed.push(describeOutcome(outcome));
    else if (outcome.pid !== undefined && !known.has(outcome.pid)) return { pid: outcome.pid, answeredAt: outcome.endedAt, failed };
    // Polling leaves the CPU to the booting worker: on a small machine a busy loop would slow the very boot being measured.
    await sleep(20);
  }
  throw new Error(`no new worker answered within ${timeoutMs} ms`);
}

describe("cluster with two web workers", () => {
  let cluster: ClusterProcess;
  servingClusterForSuite((started) => (cluster = started));

  it(
    "spreads new connections over the web workers",
    async () => {
      const pids = await distinctPids(cluster.port, 50);
      expect(pids.size).toBeGreaterThanOrEqual(2);
      expect([...pids].every((pid) => cluster.readyPids("web").includes(pid))).toBe(true);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "shares sessions between the workers: signed in once, recognised on every new connection",
    async () => {
      const register = await sendOnNewConnection(cluster.port, "POST", "/api/auth/register", {
        body: { email: `cluster-${Date.now()}@example.test`, password: "cluster password", name: "Cluster" },
      });
      expect(register.status).toBe(201);
      const cookie = register.setCookie?.split(";")[0];
      expect(cookie).toMatch(/^sid=/);
      const statuses = await Promise.all(
        Array.from({ length: 20 }, () => sendOnNewConnection(cluster.port, "GET", "/api/auth/me", { cookie })),
      );
      expect(statuses.map((answer) => answer.status)).toEqual(Array(20).fill(200));
    },
    TEST_TIMEOUT_MS,
  );

  it(
    `replaces a web worker killed with SIGKILL, answering from a new pid within ${RESTART_BUDGET_MS} ms`,
    async () => {
      const webPids = cluster.readyPids("web");
      expect(webPids).toHaveLength(2);
      const victim = webPids[0]!;
      const known = new Set([...webPids, ...cluster.readyPids("worker")]);

      const killedAt = performance.now();
      process.kill(victim, "SIGKILL");
      const replacement = await firstAnswerFromNewPid(cluster.port, known, 30_000);
      const elapsedMs = Math.round(replacement.answeredAt - killedAt);

      const exit = await cluster.waitForLog(primaryLine("child exit", { childPid: victim, signal: "SIGKILL" }), 1_000);
      const restart = await cluster.waitForLog(primaryLine("restarting child after delay", { child: "web", slot: exit.json?.slot }), 1_000);
      const fork = await cluster.waitForLog(primaryLine("fork", { childPid: replacement.pid }), 1_000);
      const ready = await cluster.waitForLog(primaryLine("child ready", { childPid: replacement.pid }), 1_000);
      const bootMs = Math.round(ready.at - fork.at);
      console.info(
        `[cluster] kill -9 -> new pid answering: ${elapsedMs} ms (restart delay ${String(restart.json?.delayMs)} ms, fork -> ready ${bootMs} ms); failed requests meanwhile: ${replacement.failed.length}`,
      );

      // The survivor keeps serving. What a SIGKILL can cost is a connection the primary handed to the worker at the
      // instant it died: node:cluster never gets it back, and the client sees no answer (here, a timeout). At most one.
      expect(replacement.failed.length).toBeLessThanOrEqual(1);
      expect(replacement.failed.every((failure) => failure.includes("TIMEOUT"))).toBe(true);
      expect(restart.json?.delayMs).toBe(100);
      expect(elapsedMs).toBeLessThan(RESTART_BUDGET_MS);
      await cluster.waitUntilServing();
    },
    TEST_TIMEOUT_MS,
  );
  it(
    "reloads on SIGHUP one web worker at a time, onto all new workers",
    async () => {
      const before = new Set(cluster.readyPids("web"));
      const reload = await reloadOnce(cluster);
      console.info(`[cluster] reload of 2 web workers: ${reload.ms} ms from SIGHUP to the exit of the last old one`);
      // Each replacement is forked only once the previous one is ready: never fewer workers serving than configured.
      expect(reload.lifecycle).toEqual(["fork", "child ready", "fork", "child ready"]);
      const after = await distinctPids(cluster.port, 20);
      expect([...after].filter((pid) => before.has(pid))).toEqual([]);
      expect(new Set(cluster.readyPids("web"))).toEqual(after);
    },
    TEST_TIMEOUT_MS,
  );

  // Last: it stops the cluster.
  it(
    "answers every request in flight, turns new connections away only after the signal, exits 0 and leaves no process",
    async () => {
      let exited = false;
      void cluster.exit.then(() => (exited = true));
      const loops = Array.from({ length: 6 }, () => requestLoop(cluster.port, false, () => exited, { untilRefused: true }));
      const held = await requestsInFlight(cluster.port, 40);

      const signalledAt = performance.now();
      cluster.signal("SIGTERM");
      // The workers must wait for the held requests: they drain, they do not cut.
      await sleep(500);
      const heldOutcomes = await Promise.all(held.map((request) => request.finish()));
      const status = await cluster.exit;
      const loopOutcomes = (await Promise.all(loops)).flat();

      const exitMs = Math.round(status.at - signalledAt);
      const after = loopOutcomes.filter((outcome) => outcome.startedAt >= signalledAt);
      console.info(
        `[cluster] SIGTERM: exit after ${exitMs} ms; held ${JSON.stringify(countBy(heldOutcomes))}; new connections ${JSON.stringify(countBy(loopOutcomes))} (${after.length} started after the signal)`,
      );
      expect(heldOutcomes.filter((outcome) => outcome.kind !== "response" || outcome.status !== 200).map(timesFrom(signalledAt))).toEqual(
        [],
      );
      expect(newConnectionViolations(loopOutcomes, signalledAt)).toEqual([]);

      expect({ code: status.code, signal: status.signal }).toEqual({ code: 0, signal: null });
      expect(exitMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
      expect(cluster.primaryLogs("primary stopped")).toEqual([expect.objectContaining({ exitCode: 0 })]);
      expect(await cluster.processesLeftAfter(2_000)).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );
});

/**
 * Many requests in flight on the workers at once. /api/health answers in a few ms, so each one is sent but for the
 * end of its headers: the worker has started reading it, and it cannot be answered before the test says so.
 */
async function requestsInFlight(port: number, count: number): Promise<HeldRequest[]> {
  const held = Array.from({ length: count }, () => holdRequest(port));
  await Promise.all(held.map((request) => request.sent));
  // Time for the primary to hand every connection to a worker, and for the worker to read the first bytes.
  await sleep(300);
  return held;
}

/** An outcome with its times relative to the signal, for failure messages that say when things happened. */
const timesFrom = (signalledAt: number) => (outcome: Outcome) => {
  const relative = (at: number | undefined) => (at === undefined ? "never" : `${Math.round(at - signalledAt)} ms`);
  const times = `started ${relative(outcome.startedAt)}, connected ${relative(outcome.connectedAt)}, ended ${relative(outcome.endedAt)}`;
  return `${describeOutcome(outcome)} (${times} after the signal)`;
};

/**
 * New connections during a stop: answered 200, or not accepted at all once the signal is given. "Not accepted" is a
 * refusal, or a reset when the connection raced the close of the listening socket: the kernel resets what is still
 * in its accept queue, and Node's round-robin handle closes the connections it had accepted but not yet handed to a
 * worker (lib/internal/cluster/round_robin_handle.js, remove()). Never an HTTP error, a timeout or a cut response.
 */
function newConnectionViolations(outcomes: Outcome[], signalledAt: number): string[] {
  const notAccepted = (outcome: Outcome) =>
    outcome.kind === "error" && (outcome.code === "ECONNREFUSED" || outcome.code === "ECONNRESET") && outcome.endedAt >= signalledAt;
  return outcomes.flatMap((outcome) => {
    if ((outcome.kind === "response" && outcome.status === 200) || notAccepted(outcome)) return [];
    return [timesFrom(signalledAt)(outcome)];
  });
}

describe("a web worker that cannot listen", () => {
  let blocker: net.Server | undefined;
  let cluster: ClusterProcess | undefined;

  afterAll(async () => {
    await cluster?.kill();
    await new Promise((resolve) => (blocker ? blocker.close(resolve) : resolve(undefined)));
  });

  it(
    "retries with a doubling delay, then stops everything and exits 1 naming EADDRINUSE",
    async () => {
      const port = await freePort();
      const occupant = net.createServer();
      blocker = occupant;
      await new Promise<void>((resolve) => occupant.listen(port, resolve));

      // One web worker: the rule is per slot, and each failed start costs a whole worker start.
      const started = await startCluster({ port, env: { WEB_CONCURRENCY: "1" } });
      cluster = started;
      const status = await started.exit;

      const restarts = started.primaryLogs("restarting child after delay");
      console.info(`[cluster] boot failures: restart delays ${JSON.stringify(restarts.map((line) => line.delayMs))}`);
      // Five failed starts: four restarts, each after twice the delay of the one before.
      expect(restarts.map((line) => [line.child, line.delayMs])).toEqual([100, 200, 400, 800].map((delayMs) => ["web", delayMs]));

      expect(started.primaryLogs("giving up")).toEqual([expect.objectContaining({ reason: expect.stringContaining("EADDRINUSE") })]);
      expect({ code: status.code, signal: status.signal }).toEqual({ code: 1, signal: null });
      expect(started.stderrText()).toMatch(/Stopping: .*EADDRINUSE/);
      // Stopping everything includes the background worker, which was healthy: it stops gracefully.
      expect(started.primaryLogs("child exit").filter((line) => line.child === "worker")).toEqual([
        expect.objectContaining({ code: 0, signal: null }),
      ]);
      expect(await started.processesLeftAfter(2_000)).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );
});
