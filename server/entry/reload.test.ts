import http from "node:http";
import { describe, expect, it } from "vitest";
import {
  countBy,
  distinctPids,
  notOk,
  primaryLine,
  requestLoop,
  servingClusterForSuite,
  sleep,
  waitFor,
  type ClusterProcess,
  type LogLine,
} from "../test/cluster-process.ts";

/**
 * SIGHUP replaces the web workers one at a time while clients keep sending:
 * keep-alive clients, whose next request may race the old worker closing their
 * connection, and clients opening a connection per request, which the primary
 * may hand to an old worker at the very moment it stops accepting.
 */

const RELOADS = 10;
const KEEP_ALIVE_CLIENTS = 2;
const NEW_CONNECTION_CLIENTS = 6;

/** The primary's fork and ready lines for web workers, in order. */
const webLifecycle = (lines: LogLine[]) =>
  lines.flatMap((line) =>
    line.json?.role === "primary" && line.json.child === "web" && (line.json.msg === "fork" || line.json.msg === "child ready")
      ? [line.json.msg]
      : [],
  );

/** One SIGHUP, until the primary says the reload is complete and the web workers it replaced have exited. */
async function reloadOnce(cluster: ClusterProcess): Promise<{ ms: number; lifecycle: string[] }> {
  const before = cluster.readyPids("web");
  const firstLine = cluster.lines.length;
  const startedAt = performance.now();
  cluster.signal("SIGHUP");
  await cluster.waitForLog(primaryLine("reload complete"), 45_000, firstLine);
  // The retired workers drain after "reload complete"; the load stays on until they are gone.
  await waitFor(() => before.every((pid) => !cluster.readyPids("web").includes(pid)), 15_000, "the old web workers to exit");
  return { ms: Math.round(performance.now() - startedAt), lifecycle: webLifecycle(cluster.lines.slice(firstLine)) };
}

describe("rolling reload", () => {
  let cluster: ClusterProcess;
  servingClusterForSuite((started) => (cluster = started));

  it(`reloads ${RELOADS} times in a row under keep-alive and new-connection load without failing a request, one worker at a time`, async () => {
    const first = new Set(cluster.readyPids("web"));
    let reloaded = false;
    const stop = () => reloaded;
    const keepAlive = Array.from({ length: KEEP_ALIVE_CLIENTS }, () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      return requestLoop(cluster.port, agent, stop).finally(() => agent.destroy());
    });
    const fresh = Array.from({ length: NEW_CONNECTION_CLIENTS }, () => requestLoop(cluster.port, false, stop));

    await sleep(200);
    const reloads: Array<{ ms: number; lifecycle: string[] }> = [];
    for (let index = 0; index < RELOADS; index += 1) reloads.push(await reloadOnce(cluster));
    await sleep(200);
    reloaded = true;

    const keepAliveOutcomes = (await Promise.all(keepAlive)).flat();
    const freshOutcomes = (await Promise.all(fresh)).flat();
    console.info(
      `[reload] ${RELOADS} reloads, ${reloads.map((reload) => reload.ms).join(", ")} ms each (SIGHUP to the old workers' exit); ` +
        `keep-alive ${JSON.stringify(countBy(keepAliveOutcomes))}, new connections ${JSON.stringify(countBy(freshOutcomes))}`,
    );
    expect({ keepAlive: notOk(keepAliveOutcomes), fresh: notOk(freshOutcomes) }).toEqual({ keepAlive: [], fresh: [] });
    // One at a time: each replacement is forked only once the previous one is ready.
    for (const reload of reloads) expect(reload.lifecycle).toEqual(["fork", "child ready", "fork", "child ready"]);

    const after = await distinctPids(cluster.port, 20);
    expect([...after].filter((pid) => first.has(pid))).toEqual([]);
    expect(new Set(cluster.readyPids("web"))).toEqual(after);
  }, 120_000);
});
