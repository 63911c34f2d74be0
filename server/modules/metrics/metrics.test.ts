import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../test/harness.ts";
import { parsePrometheus, samplesOf, sumOf, type PromSample } from "../../test/prometheus.ts";
import { SIGNAL_NAMES } from "../../infra/alert-signals.ts";

const OPS_TOKEN = "ops-token-of-the-metrics-test-0123456789";
const authorized = { authorization: `Bearer ${OPS_TOKEN}` };

/**
 * A web worker run alone (no primary) serves its own registry. Counters are the process's, shared with the other
 * test files of this worker: the test reads them before and after its own traffic.
 */
describe("the metrics of a web worker run alone", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ OPS_TOKEN });
  });
  afterAll(() => server.close());

  const scrape = async (): Promise<PromSample[]> => {
    const response = await fetch(`${server.url}/api/metrics`, { headers: authorized });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePrometheus(await response.text());
  };

  it("needs the operators' token", async () => {
    expect((await fetch(`${server.url}/api/metrics`)).status).toBe(401);
    expect((await fetch(`${server.url}/api/metrics`, { headers: { authorization: `Bearer ${OPS_TOKEN}x` } })).status).toBe(401);
    expect((await fetch(`${server.url}/api/ops/status`)).status).toBe(401);
  });

  it("counts requests by route template and status, and times them", async () => {
    const before = await scrape();
    for (let index = 0; index < 4; index += 1) expect((await fetch(`${server.url}/api/plans`)).status).toBe(200);
    for (let index = 0; index < 2; index += 1) expect((await fetch(`${server.url}/api/communities/no-such-${index}`)).status).toBe(404);
    const after = await scrape();
    const grown = (name: string, labels: Record<string, string>) => sumOf(after, name, labels) - sumOf(before, name, labels);
    expect(grown("http_requests_total", { method: "GET", route: "/api/plans", status: "200" })).toBe(4);
    expect(grown("http_request_duration_seconds_count", { route: "/api/plans", status: "200" })).toBe(4);
    expect(grown("http_request_duration_seconds_bucket", { route: "/api/plans", status: "200", le: "+Inf" })).toBe(4);
    // The template, never the raw path: both 404s under one series.
    expect(grown("http_requests_total", { route: "/api/communities/:slug", status: "404" })).toBe(2);
    expect(samplesOf(after, "http_requests_total").some((sample) => sample.labels.route?.includes("no-such"))).toBe(false);
    // The scrape itself is in flight while it is counted.
    expect(sumOf(after, "http_requests_in_flight")).toBeGreaterThanOrEqual(1);
  });

  it("reports the process's pool, breaker, heap limit and Node's own metrics under its role and pid", async () => {
    const samples = await scrape();
    const own = { role: "web", pid: String(process.pid) };
    expect(sumOf(samples, "db_pool_max_connections", own)).toBe(server.container.config.plan.poolMaxPerProcess);
    expect(samplesOf(samples, "db_pool_connections", { ...own, state: "idle" })).toHaveLength(1);
    expect(samplesOf(samples, "db_pool_waiting_clients", own)).toHaveLength(1);
    expect(sumOf(samples, "db_breaker_state", own)).toBe(0);
    expect(sumOf(samples, "nodejs_heap_size_limit_bytes", own)).toBeGreaterThan(0);
    expect(samplesOf(samples, "nodejs_eventloop_lag_p99_seconds", own)).toHaveLength(1);
    expect(samplesOf(samples, "process_resident_memory_bytes", own)).toHaveLength(1);
  });

  it("reports the heap alive after the last full collection", async () => {
    // A full collection, asked for as V8 allows it at run time (the gc function of a fresh context).
    v8.setFlagsFromString("--expose-gc");
    const collect = runInNewContext("gc") as () => void;
    // Garbage: unreachable once the function returns.
    const allocate = () => Array.from({ length: 200_000 }, (_, index) => ({ index })).length;
    expect(allocate()).toBe(200_000);
    collect();
    // The observer hears of the collection on a later turn of the event loop.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const own = { role: "web", pid: String(process.pid) };
    const samples = await scrape();
    const live = sumOf(samples, "nodejs_heap_live_bytes", own);
    expect(live).toBeGreaterThan(1024 * 1024);
    expect(live).toBeLessThan(v8.getHeapStatistics().heap_size_limit);
    expect(samplesOf(samples, "nodejs_heap_live_bytes", own)).toHaveLength(1);
  });

  it("answers the alert signals with their values and states, the workers, the uptime and the plan", async () => {
    const response = await fetch(`${server.url}/api/ops/status`, { headers: authorized });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      signals: Array<{ name: string; value: number; unit: string; threshold: { warn: number; critical: number }; state: string }>;
      workers: Record<string, number>;
      uptimeS: number;
      plan: { tier: string };
    };
    expect(body.signals.map((signal) => signal.name)).toEqual(SIGNAL_NAMES);
    for (const signal of body.signals) {
      expect(typeof signal.value).toBe("number");
      expect(signal.threshold.critical).toBeGreaterThan(signal.threshold.warn);
      expect(["ok", "warn", "critical"]).toContain(signal.state);
    }
    expect(body.workers).toEqual({ web: 1 });
    expect(body.uptimeS).toBeGreaterThanOrEqual(0);
    expect(body.plan.tier).toBe(server.container.config.plan.tier);
  });
});
