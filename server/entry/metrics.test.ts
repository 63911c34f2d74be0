import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseUrl } from "../test/harness.ts";
import { ownDatabase, query, type OwnDatabase } from "../test/services.ts";
import { startTcpProxy, type TcpProxy } from "../test/tcp-proxy.ts";
import { primaryLine, startCluster, waitFor, type ClusterProcess } from "../test/cluster-process.ts";
import { parsePrometheus, samplesOf, sumOf, type PromSample } from "../test/prometheus.ts";
import { SIGNAL_NAMES } from "../infra/alert-signals.ts";
import { PROJECT_ROOT } from "../paths.ts";

/**
 * The instance's metrics, as the primary aggregates them over its two web workers and its background worker, read
 * back after known traffic; the alert signals, ok under light load and critical once requests fail. The cluster
 * reaches a database of its own through a relay the test cuts, so that only its own requests fail.
 */

const OPS_TOKEN = "ops-token-of-the-cluster-metrics-test-0123";
const authorized = { authorization: `Bearer ${OPS_TOKEN}`, connection: "close" };

interface Status {
  signals: Array<{ name: string; value: number; state: string }>;
  workers: Record<string, number>;
  uptimeS: number;
  plan: { webWorkers: number };
}

/** The metrics the dashboard's queries select: every name followed by a selector `{…}` or a range `[…]`. */
async function dashboardMetrics(): Promise<Set<string>> {
  const dashboard = JSON.parse(await fs.readFile(path.join(PROJECT_ROOT, "docs/grafana-dashboard.json"), "utf8")) as {
    panels: Array<{ targets: Array<{ expr: string }> }>;
  };
  const expressions = dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr));
  const names = expressions.flatMap((expr) => [...expr.matchAll(/([a-z_][a-z0-9_]*)\s*[{[]/g)].map((match) => match[1]!));
  expect(names.length).toBeGreaterThan(15);
  return new Set(names.map((name) => name.replace(/_(bucket|sum|count)$/, "")));
}

/** The product's metrics the alert rules name (by their prefixes: the rules also name PromQL functions and labels). */
async function alertRuleMetrics(): Promise<Set<string>> {
  const rules = await fs.readFile(path.join(PROJECT_ROOT, "docs/prometheus-alerts.yml"), "utf8");
  const names = [...rules.matchAll(/\b(?:http|db|nodejs|process|job|webhook|outbox|child)_[a-z0-9_]+/g)].map((match) => match[0]);
  expect(names.length).toBeGreaterThan(10);
  return new Set(names.map((name) => name.replace(/_(bucket|sum|count)$/, "")));
}

describe("the metrics of a cluster", () => {
  let database: OwnDatabase;
  let proxy: TcpProxy;
  let cluster: ClusterProcess;

  /** Each request on a new connection: the primary's round-robin spreads them over both web workers. */
  const get = (route: string, headers: Record<string, string> = { connection: "close" }) => fetch(`${cluster.url}${route}`, { headers });
  const scrape = async (): Promise<{ text: string; samples: PromSample[] }> => {
    const response = await get("/api/metrics", authorized);
    expect(response.status).toBe(200);
    const text = await response.text();
    return { text, samples: parsePrometheus(text) };
  };
  const status = async (): Promise<Status> => {
    const response = await get("/api/ops/status", authorized);
    expect(response.status).toBe(200);
    return (await response.json()) as Status;
  };
  const stateOf = (body: Status, name: string) => body.signals.find((signal) => signal.name === name)?.state;

  beforeAll(async () => {
    database = await ownDatabase(databaseUrl, "metrics");
    const target = new URL(databaseUrl);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const relayed = new URL(database.url);
    relayed.host = `127.0.0.1:${proxy.port}`;
    cluster = await startCluster({ env: { DATABASE_URL: relayed.toString(), WEB_CONCURRENCY: "2", OPS_TOKEN } });
    await cluster.waitUntilServing();
  }, 90_000);

  afterAll(async () => {
    await cluster?.kill();
    await proxy?.close();
    await database?.drop();
  });

  it("are for the operators only", async () => {
    expect((await get("/api/metrics")).status).toBe(401);
    expect((await get("/api/metrics", { authorization: `Bearer ${OPS_TOKEN}x` })).status).toBe(401);
    expect((await get("/api/ops/status")).status).toBe(401);
  });

  it("sum the requests of both web workers by route template and status", async () => {
    const before = (await scrape()).samples;
    for (let index = 0; index < 7; index += 1) expect((await get("/api/plans")).status).toBe(200);
    for (let index = 0; index < 3; index += 1) expect((await get(`/api/communities/none-${index}`)).status).toBe(404);
    const { samples: after, text } = await scrape();
    const grown = (name: string, labels: Record<string, string>) => sumOf(after, name, labels) - sumOf(before, name, labels);
    expect(grown("http_requests_total", { method: "GET", route: "/api/plans", status: "200" })).toBe(7);
    expect(grown("http_request_duration_seconds_count", { route: "/api/plans", status: "200" })).toBe(7);
    expect(grown("http_requests_total", { route: "/api/communities/:slug", status: "404" })).toBe(3);
    // One series per label set: the workers' counters are summed, not listed side by side.
    expect(samplesOf(after, "http_requests_total", { route: "/api/plans", status: "200" })).toHaveLength(1);

    // Per-process values stay apart: each web worker's pool and breaker, the background worker's pool, the primary.
    const pools = samplesOf(after, "db_pool_max_connections");
    expect(
      pools
        .filter((sample) => sample.labels.role === "web")
        .map((sample) => Number(sample.labels.pid))
        .sort(),
    ).toEqual(cluster.readyPids("web").sort());
    expect(pools.filter((sample) => sample.labels.role === "worker")).toHaveLength(1);
    expect(samplesOf(after, "db_breaker_state", { role: "web" }).map((sample) => sample.value)).toEqual([0, 0]);
    expect(samplesOf(after, "process_resident_memory_bytes", { role: "primary" })).toHaveLength(1);
    // The background worker counts what waits in Postgres: every state of the queue, even at zero.
    expect(
      samplesOf(after, "job_queue_jobs")
        .map((sample) => sample.labels.state)
        .sort(),
    ).toEqual(["failed", "ready", "running", "scheduled"]);

    // Every metric the Grafana dashboard queries is served.
    const served = new Set([...text.matchAll(/^# TYPE (\S+)/gm)].map((match) => match[1]!));
    expect([...(await dashboardMetrics())].filter((name) => !served.has(name))).toEqual([]);
    expect([...(await alertRuleMetrics())].filter((name) => !served.has(name))).toEqual([]);
  });

  it("count the failed Stripe events of the last hour, which the webhooks signal reads", async () => {
    await query(
      database.url,
      `insert into stripe_events (id, type, created, payload, status) values ('evt_failed_metrics', 'invoice.paid', 0, '{}', 'failed')`,
    );
    // A count is reused for a second by the scrapes that follow it.
    let samples: PromSample[] = [];
    await waitFor(
      async () => sumOf((samples = (await scrape()).samples), "webhook_events", { status: "failed" }) === 1,
      5_000,
      "the count",
    );
    expect(sumOf(samples, "webhook_events_failed_last_hour")).toBe(1);
    expect(stateOf(await status(), "webhooks_failed")).toBe("warn");
  });

  it("answer every alert signal, ok under light load, with the workers and the plan", async () => {
    const body = await status();
    expect(body.signals.map((signal) => signal.name)).toEqual(SIGNAL_NAMES);
    for (const signal of body.signals.filter((candidate) => candidate.name !== "webhooks_failed")) expect(signal.state).toBe("ok");
    expect(body.workers).toEqual({ web: 2, worker: 1 });
    expect(body.plan.webWorkers).toBe(2);
    expect(body.uptimeS).toBeGreaterThan(0);
  });

  it("turn the 5xx rate critical when requests fail, and the primary says so once", async () => {
    const firstLine = cluster.lines.length;
    await proxy.cut("reset");
    try {
      // A community that does not exist: "not found" is never cached, so each of these asks the cut database.
      const unknownCommunity = () => get("/api/communities/no-such-community").then((response) => response.status);
      const statuses = await Promise.all(Array.from({ length: 30 }, unknownCommunity));
      expect(statuses.filter((code) => code >= 500).length).toBeGreaterThan(10);
      expect(stateOf(await status(), "error_rate_5xx")).toBe("critical");
      const changed = await cluster.waitForLog(primaryLine("alert signal changed", { name: "error_rate_5xx" }), 5_000, firstLine);
      expect(changed.json).toMatchObject({ from: "ok", to: "critical" });
      expect(stateOf(await status(), "error_rate_5xx")).toBe("critical");
      expect(cluster.primaryLogs("alert signal changed").filter((line) => line.name === "error_rate_5xx")).toHaveLength(1);
    } finally {
      await proxy.restore();
    }
  });

  it("count the restarts of a killed web worker, and go on answering without it", async () => {
    const [victim] = cluster.readyPids("web");
    const firstLine = cluster.lines.length;
    process.kill(victim!, "SIGKILL");
    await cluster.waitForLog(primaryLine("child ready", { child: "web" }), 30_000, firstLine);
    const { samples } = await scrape();
    expect(sumOf(samples, "child_restarts_total", { role: "web" })).toBe(1);
    expect(samplesOf(samples, "db_pool_max_connections", { role: "web", pid: String(victim) })).toEqual([]);
  });
});
