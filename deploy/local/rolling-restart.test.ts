import { describe, expect, it } from "vitest";
import type { Deployment, Instance } from "./deployment.ts";
import { deploymentForSuite, deploymentSkipReason } from "./suite.ts";
import { describeAnswer, isOk, lostWrites, newCast, Traffic, type Answer } from "./traffic.ts";

/**
 * A release as platforms roll it: one instance stopped (SIGTERM) and started again, then the other, while members read
 * and write through nginx on keep-alive and new connections. Not one request may fail, and every write acknowledged
 * must be in the database.
 */

/** Longer than nginx's fail_timeout (deploy/nginx/community.conf): nginx has tried the restarted instance again since. */
const SETTLE_MS = 6_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Answers that came from this instance's web workers, by the pid the live probe reports, after `since`. */
async function servedBy(deployment: Deployment, instance: Instance): Promise<boolean> {
  const own = new Set(instance.process?.readyPids("web"));
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const response = await fetch(`${deployment.url}/api/health/live`, { headers: { connection: "close" } });
    const { pid } = (await response.json()) as { pid: number };
    if (own.has(pid)) return true;
  }
  return false;
}

describe.skipIf(deploymentSkipReason !== "")(`a rolling restart behind nginx (${deploymentSkipReason || "ready"})`, () => {
  let deployment: Deployment;
  deploymentForSuite(
    () => ({
      // Every request is counted, none refused: all the traffic comes from one address.
      RATE_LIMIT_MULTIPLIER: "1000",
      // Two instances and the traffic share 2 CPUs: a starved worker must not shed what it is being asked.
      SHED_MAX_IN_FLIGHT: "0",
      SHED_MAX_EVENT_LOOP_DELAY_MS: "0",
    }),
    (started) => (deployment = started),
  );

  it("fails no request and loses no write while each instance in turn is stopped and started again", { timeout: 120_000 }, async () => {
    const cast = await newCast(deployment.url);
    const traffic = Traffic.everyday(deployment.url, cast).start();
    const rolls: string[] = [];
    let answers: Answer[];
    try {
      await sleep(2_000);
      for (const instance of deployment.instances) {
        const stoppingAt = performance.now();
        await instance.stop();
        const stoppedAt = performance.now();
        await instance.start();
        rolls.push(
          `${instance.name}: stopped in ${Math.round(stoppedAt - stoppingAt)} ms, serving again ${Math.round(performance.now() - stoppedAt)} ms later`,
        );
        await sleep(SETTLE_MS);
        expect(await servedBy(deployment, instance)).toBe(true);
      }
    } finally {
      answers = await traffic.stop();
    }
    const failed = answers.filter((answer) => !isOk(answer));
    const writes = answers.filter((answer) => answer.method === "POST" && isOk(answer));
    console.log(`[rolling restart] ${rolls.join("; ")}; ${answers.length} requests (${writes.length} writes), ${failed.length} failed`);
    expect(failed.map(describeAnswer)).toEqual([]);
    expect(writes.length).toBeGreaterThan(0);
    expect(await lostWrites(deployment.databaseUrl, answers)).toEqual([]);
  });
});
