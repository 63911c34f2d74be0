import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { percentile } from "./latency.ts";
import { requestLine, runWrk, wrkAvailable } from "./wrk.ts";

const SLOW_MS = 50;

/** Echoes X-Request-Id as the product does; /slow answers after SLOW_MS, /shed with a 503; keeps the bodies it got. */
function tinyServer(bodies: string[]): http.Server {
  return http.createServer((req, res) => {
    const id = req.headers["x-request-id"];
    if (typeof id === "string") res.setHeader("X-Request-Id", id);
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      if (body !== "") bodies.push(`${req.method} ${req.url} ${req.headers["x-token"]} ${body}`);
      if (req.url === "/shed") return res.writeHead(503).end();
      if (req.url === "/slow") return void setTimeout(() => res.writeHead(200).end("slow"), SLOW_MS);
      res.writeHead(req.method === "POST" ? 201 : 200).end("ok");
    });
  });
}

describe.skipIf(!wrkAvailable())("the bench's wrk script", () => {
  const bodies: string[] = [];
  const server = tinyServer(bodies);
  let url = "";
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("sends the requests in turn, counts statuses, and times each class by the echoed request id", async () => {
    const requests = [
      { class: "fast", method: "GET", path: "/fast" },
      { class: "slow", method: "GET", path: "/slow" },
      { class: "shed", method: "GET", path: "/shed" },
      { class: "write", method: "POST", path: "/write", headers: { "x-token": "t1" }, body: '{"n":1}' },
    ];
    const result = await runWrk({ url, headers: { "x-token": "common" }, requests, connections: 4, threads: 1, durationS: 1 });
    const answered = Object.values(result.statuses).reduce((sum, n) => sum + n, 0);
    expect(answered).toBeGreaterThan(8);
    expect(Object.keys(result.statuses).sort()).toEqual(["200", "201", "503"]);
    expect(Object.keys(result.timings).sort()).toEqual(["fast", "shed", "slow", "write"]);
    expect(Object.keys(result.timings.shed!)).toEqual(["503"]);
    expect(Object.keys(result.timings.write!)).toEqual(["201"]);
    expect(percentile(result.timings.slow!["200"]!, 50)).toBeGreaterThanOrEqual(SLOW_MS * 0.95);
    expect(percentile(result.timings.fast!["200"]!, 50)).toBeLessThan(SLOW_MS);
    // Each request's own header overrides the common one; the body arrives as given.
    expect(bodies[0]).toBe('POST /write t1 {"n":1}');
  });

  it("refuses a request that would break its line in the requests file", () => {
    expect(() => requestLine({ class: "a", method: "POST", path: "/", body: "two\nlines" })).toThrow(/newline/);
    expect(() => requestLine({ class: "a b", method: "GET", path: "/" })).toThrow(/letters/);
  });
});

describe.runIf(!wrkAvailable())("the bench's wrk script (skipped)", () => {
  it("needs /usr/bin/wrk (apt-get install wrk); the bench falls back to autocannon without it", () => {
    console.warn("bench/wrk.test.ts: /usr/bin/wrk is not installed, the wrk script is not tested");
  });
});
