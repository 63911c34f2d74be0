import http from "node:http";
import { describe, expect, it } from "vitest";
import { HttpClient } from "../test/harness.ts";
import { notOk, requestLoop, servingClusterForSuite, type ClusterProcess } from "../test/cluster-process.ts";

/**
 * One web worker driven far past its limit on a database-bound route: a members page, each request a session read in
 * Redis and three queries, through a pool of 2 connections, with at most 8 requests in flight. Answers past the limit
 * must be 503 `overloaded` with Retry-After, at once; probes must be answered throughout; the worker must serve every
 * request again once the overload is over.
 */

const MAX_IN_FLIGHT = 8;
/** Clients sending one request after another, each on a new connection, for OVERLOAD_MS. */
const CLIENTS = 64;
const OVERLOAD_MS = 3_000;
/** A refused request costs the worker microseconds; this only allows for a machine shared with other test runs. */
const SHED_BOUND_MS = 250;

interface Answer {
  status: number;
  code: string | undefined;
  retryAfter: string | undefined;
}

/** One GET on a connection of its own, as from as many clients. */
function get(port: number, path: string, cookie: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: "127.0.0.1", port, path, agent: false, headers: { cookie } }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => {
        const code = response.statusCode === 200 ? undefined : (JSON.parse(body) as { error: { code: string } }).error.code;
        const retryAfter = response.headers["retry-after"];
        resolve({ status: response.statusCode ?? 0, code, retryAfter });
      });
    });
    request.on("error", reject);
    request.end();
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

describe("load shedding of a web worker driven past its limit", () => {
  let cluster: ClusterProcess;
  servingClusterForSuite((started) => (cluster = started), {
    env: {
      WEB_CONCURRENCY: "1",
      SHED_MAX_IN_FLIGHT: String(MAX_IN_FLIGHT),
      // (5 - 1 reserved) / 2 processes: 2 connections per pool.
      DB_CONNECTION_BUDGET: "5",
      DB_CONNECTION_RESERVE: "1",
      // Many requests of one member: the rate limits must not be what refuses them.
      RATE_LIMIT_MULTIPLIER: "1000",
    },
  });

  it(`answers 503 overloaded at once past ${MAX_IN_FLIGHT} requests in flight, keeps probes answered, and serves everyone again after the overload`, async () => {
    const member = new HttpClient(cluster.url);
    expect(
      (await member.post("/api/auth/register", { email: `shed-${Date.now()}@example.test`, password: "a long password 1", name: "Shed" }))
        .status,
    ).toBe(201);
    const created = await member.post("/api/communities", { name: "Shedding club" });
    const { community } = (await created.json()) as { community: { slug: string } };
    const page = `/api/communities/${community.slug}/members`;
    const cookie = member.cookie ?? "";
    expect((await get(cluster.port, page, cookie)).status).toBe(200);
    const firstLine = cluster.lines.length;

    let overloading = true;
    const probes = requestLoop(cluster.port, false, () => !overloading, { pauseMs: 20 });
    const answers: Answer[] = [];
    const until = performance.now() + OVERLOAD_MS;
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (performance.now() < until) answers.push(await get(cluster.port, page, cookie));
      }),
    );
    overloading = false;
    const probeOutcomes = await probes;
    const after = [];
    for (let index = 0; index < 20; index += 1) after.push(await get(cluster.port, page, cookie));

    const lines = cluster.lines
      .slice(firstLine)
      .flatMap((line) => (line.json?.msg === "request" && line.json.route !== "/api/health" ? [line.json] : []));
    const durations = (status: number) => lines.filter((line) => line.status === status).map((line) => Number(line.durationMs));
    const shed = answers.filter((answer) => answer.status === 503);
    const admitted = answers.filter((answer) => answer.status === 200);
    console.info(
      `[load-shedding] ${CLIENTS} clients for ${OVERLOAD_MS} ms, ${MAX_IN_FLIGHT} in flight at most: ${admitted.length} served, ${shed.length} shed; ` +
        `in the worker, shed answered in ${median(durations(503))} ms (median, max ${Math.max(...durations(503))}), ` +
        `served ones in ${median(durations(200))} ms (median, max ${Math.max(...durations(200))}); ${probeOutcomes.length} probes meanwhile`,
    );

    expect(admitted.length).toBeGreaterThanOrEqual(MAX_IN_FLIGHT);
    expect(shed.length).toBeGreaterThan(0);
    expect(admitted.length + shed.length).toBe(answers.length);
    expect(new Set(shed.map((answer) => `${answer.code} ${answer.retryAfter}`))).toEqual(new Set(["overloaded 1"]));
    expect(Math.max(...durations(503))).toBeLessThan(SHED_BOUND_MS);
    expect(median(durations(503))).toBeLessThan(median(durations(200)));
    expect(probeOutcomes.length).toBeGreaterThan(0);
    expect(notOk(probeOutcomes)).toEqual([]);
    expect(after.map((answer) => answer.status)).toEqual(Array(20).fill(200));
  });
});
