import http from "node:http";
import { describe, expect, it } from "vitest";
import { redisUrl } from "../test/harness.ts";
import { sendOnNewConnection, servingClusterForSuite, sleep, type ClusterProcess } from "../test/cluster-process.ts";

/**
 * The cache's invalidation across the web workers of a real cluster: a change
 * made through one worker is read fresh through the other within a second,
 * over Redis's pub/sub, and in local mode (no Redis) through the primary.
 */

const FRESH_WITHIN_MS = 1_000;
/** Consecutive reads, each on a new connection: round-robin hands them to both workers. */
const READS = 6;

/** The description the public profile shows, read on a connection of its own. */
function profileDescription(port: number, slug: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = http.get(
      { host: "127.0.0.1", port, path: `/api/communities/${slug}`, agent: false, headers: { connection: "close" } },
      (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (body += chunk));
        response.on("end", () => resolve((JSON.parse(body) as { community: { description: string } }).community.description));
      },
    );
    request.on("error", reject);
  });
}

async function descriptions(port: number, slug: string): Promise<string[]> {
  const seen: string[] = [];
  for (let read = 0; read < READS; read += 1) seen.push(await profileDescription(port, slug));
  return seen;
}

describe.each([
  ["with Redis", redisUrl],
  ["in local mode", undefined],
])("the cache of a cluster %s", (mode, clusterRedisUrl) => {
  let cluster: ClusterProcess;
  servingClusterForSuite((started) => (cluster = started), { env: { REDIS_URL: clusterRedisUrl, WEB_CONCURRENCY: "2" } });

  it.skipIf(mode === "with Redis" && !redisUrl)(
    "shows a profile changed through one worker fresh through every worker within a second",
    async () => {
      expect(cluster.webWorkers).toBe(2);
      const register = await sendOnNewConnection(cluster.port, "POST", "/api/auth/register", {
        body: { email: `cache-${Date.now()}-${Math.random()}@example.test`, password: "cluster password", name: "Owner" },
      });
      expect(register.status).toBe(201);
      const cookie = register.setCookie?.split(";")[0];
      const slug = `cache-${Date.now()}`;
      const created = await sendOnNewConnection(cluster.port, "POST", "/api/communities", {
        cookie,
        body: { name: "Cached club", slug, description: "before" },
      });
      expect(created.status).toBe(201);
      // Both workers now hold the profile in memory (and Redis too, with it).
      expect(await descriptions(cluster.port, slug)).toEqual(Array(READS).fill("before"));

      for (const description of ["after", "and again"]) {
        const changed = await sendOnNewConnection(cluster.port, "PATCH", `/api/communities/${slug}`, { cookie, body: { description } });
        expect(changed.status).toBe(200);
        const changedAt = performance.now();
        let seen = await descriptions(cluster.port, slug);
        while (seen.some((value) => value !== description) && performance.now() - changedAt < FRESH_WITHIN_MS) {
          await sleep(50);
          seen = await descriptions(cluster.port, slug);
        }
        expect(seen).toEqual(Array(READS).fill(description));
      }
    },
    60_000,
  );
});
