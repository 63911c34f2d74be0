import http from "node:http";
import { describe, expect, it } from "vitest";
import {
  countBy,
  distinctPids,
  notOk,
  reloadOnce,
  requestLoop,
  servingClusterForSuite,
  sleep,
  type ClusterProcess,
  type Reload,
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
/** The cheapest request that says which worker answered, and a breath between requests, leave CPU to the workers' starts. */
const LOAD = { path: "/api/health/live", pauseMs: 10 } as const;

describe("rolling reload", () => {
  let cluster: ClusterProcess;
  // One web worker: what is at stake is the hand-over between a retiring worker and its replacement, and each reload
  // costs one worker start instead of two (the order of replacements with two is in cluster.test.ts).
  servingClusterForSuite((started) => (cluster = started), { env: { WEB_CONCURRENCY: "1" } });

  it(`reloads ${RELOADS} times in a row under keep-alive and new-connection load without failing a request`, async () => {
    const first = new Set(cluster.readyPids("web"));
    let reloaded = false;
    const stop = () => reloaded;
    const keepAlive = Array.from({ length: KEEP_ALIVE_CLIENTS }, () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      return requestLoop(cluster.port, agent, stop, LOAD).finally(() => agent.destroy());
    });
    const fresh = Array.from({ length: NEW_CONNECTION_CLIENTS }, () => requestLoop(cluster.port, false, stop, LOAD));

    await sleep(200);
    const reloads: Reload[] = [];
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
    for (const reload of reloads) expect(reload.lifecycle).toEqual(["fork", "child ready"]);

    const after = await distinctPids(cluster.port, 20);
    expect([...after].filter((pid) => first.has(pid))).toEqual([]);
    expect(new Set(cluster.readyPids("web"))).toEqual(after);
  }, 120_000);
});
