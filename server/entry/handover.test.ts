import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildMinimalCluster,
  countBy,
  notOk,
  reloadOnce,
  requestLoop,
  startCluster,
  type ClusterProcess,
  type Reload,
} from "../test/cluster-process.ts";

const RELOADS = 25;
/** Unpaused: the more connections the primary hands out, the likelier one reaches a worker as it stops accepting. */
const NEW_CONNECTION_CLIENTS = 3;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/**
 * The hand-over itself, many times: the real supervisor with minimal web workers that start in a fraction of a second
 * and, having no keep-alive connection to drain, stop at once. Node's round-robin primary may hand such a worker a
 * connection at the very moment it stops accepting; before the worker waited for the primary's confirmation, the
 * worker could exit without answering it, and that client waited for its own timeout.
 */
describe("rolling reload of workers that stop at once", () => {
  let cluster: ClusterProcess | undefined;
  beforeAll(async () => {
    // One web worker: each reload then hands over from one worker to its replacement, the case at stake.
    cluster = await startCluster({ command: await buildMinimalCluster(), env: { WEB_CONCURRENCY: "1" } });
    await cluster.waitUntilServing();
  });
  afterAll(() => cluster?.kill());

  it(`loses no connection over ${RELOADS} reloads under new-connection load`, async () => {
    let reloaded = false;
    const started = cluster!;
    const loops = Array.from({ length: NEW_CONNECTION_CLIENTS }, () => requestLoop(started.port, false, () => reloaded));
    const reloads: Reload[] = [];
    for (let index = 0; index < RELOADS; index += 1) reloads.push(await reloadOnce(started));
    reloaded = true;
    const outcomes = (await Promise.all(loops)).flat();
    console.info(
      `[reload] minimal workers: ${RELOADS} reloads, median ${median(reloads.map((reload) => reload.ms))} ms each; ` +
        `new connections ${JSON.stringify(countBy(outcomes))}`,
    );
    expect(notOk(outcomes)).toEqual([]);
  }, 120_000);
});
