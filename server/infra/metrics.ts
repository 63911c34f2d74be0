import v8 from "node:v8";
import { constants, PerformanceObserver, type PerformanceEntry } from "node:perf_hooks";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { BreakerState, DatabaseBreaker } from "./db/breaker.ts";
import type { DbPool } from "./db/types.ts";
import { withDeadline } from "./deadline.ts";

/**
 * The Prometheus metrics of one process. Every process (web worker, background
 * worker) records into its own registry; the primary aggregates them over the
 * cluster for `GET /api/metrics`. Labels are bounded: route templates (never raw
 * paths), status codes, names chosen in code.
 */
export const metricsRegistry = new Registry();

export const httpRequests = new Counter({
  name: "http_requests_total",
  help: "Requests answered, by method, route template and status",
  labelNames: ["method", "route", "status"] as const,
  registers: [metricsRegistry],
});

export const httpRequestDuration = new Histogram({
  name: "http_request_duration_seconds",
  help: "Time from the request's arrival to the end of its response, by method, route template and status",
  labelNames: ["method", "route", "status"] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
  registers: [metricsRegistry],
});

export const httpInFlight = new Gauge({
  name: "http_requests_in_flight",
  help: "Requests received and not yet answered",
  registers: [metricsRegistry],
});

export const cacheOperations = new Counter({
  name: "cache_operations_total",
  help: "Cache reads by cache name and result (hit, miss, stale)",
  labelNames: ["cache", "result"] as const,
  registers: [metricsRegistry],
});

export const rateLimitRejections = new Counter({
  name: "rate_limit_rejections_total",
  help: "Requests refused with 429, by limiter",
  labelNames: ["limiter"] as const,
  registers: [metricsRegistry],
});

export const shedRequests = new Counter({
  name: "shed_requests_total",
  help: "Requests refused with 503 overloaded, by the reason (event-loop delay, in-flight requests)",
  labelNames: ["reason"] as const,
  registers: [metricsRegistry],
});

export const jobCompletions = new Counter({
  name: "jobs_completed_total",
  help: "Jobs completed, by task: with several background workers, each one's share of the queue",
  labelNames: ["task"] as const,
  registers: [metricsRegistry],
});

export const jobFailures = new Counter({
  name: "job_failures_total",
  help: "Job attempts that failed, by task",
  labelNames: ["task"] as const,
  registers: [metricsRegistry],
});

/**
 * Per-process values (pool, breaker, heap limit, Node's own metrics) carry the process's role and pid: the primary's
 * aggregation sums series with equal labels, and these must stay apart. The counters above carry neither, so that
 * their aggregate is the instance's total.
 */
const PROCESS_LABELS = ["role", "pid"] as const;
type ProcessLabels = Record<(typeof PROCESS_LABELS)[number], string>;

/** What the gauges read at each scrape: set once the process built what they observe. */
const observed: {
  labels: ProcessLabels | undefined;
  pool?: { pool: DbPool; max: number; breaker: DatabaseBreaker | undefined };
  backlog?: BacklogReader;
} = { labels: undefined };

/** A per-process gauge that, at each scrape, sets its value(s) from what is observed, when it is. */
function processGauge(
  name: string,
  help: string,
  extraLabels: readonly string[],
  read: (set: (value: number, extra?: Record<string, string>) => void) => void,
): void {
  new Gauge({
    name,
    help,
    labelNames: [...PROCESS_LABELS, ...extraLabels],
    registers: [metricsRegistry],
    collect() {
      const labels = observed.labels;
      if (labels) read((value, extra = {}) => this.set({ ...labels, ...extra }, value));
    },
  });
}

processGauge("db_pool_connections", "Connections of the process's pool, open in total and idle among them", ["state"], (set) => {
  if (!observed.pool) return;
  set(observed.pool.pool.totalCount, { state: "total" });
  set(observed.pool.pool.idleCount, { state: "idle" });
});
processGauge("db_pool_waiting_clients", "Callers of the process waiting for a connection of its pool", [], (set) => {
  if (observed.pool) set(observed.pool.pool.waitingCount);
});
processGauge("db_pool_max_connections", "The most connections the process's pool opens", [], (set) => {
  if (observed.pool) set(observed.pool.max);
});

const BREAKER_STATES: Record<BreakerState, number> = { closed: 0, halfOpen: 1, open: 2 };
processGauge("db_breaker_state", "A web worker's database breaker: 0 closed, 1 half-open (a trial check runs), 2 open (503)", [], (set) => {
  const breaker = observed.pool?.breaker;
  if (breaker) set(BREAKER_STATES[breaker.state]);
});
processGauge("nodejs_heap_size_limit_bytes", "V8's heap size limit: a heap used near it ends in an out-of-memory crash", [], (set) =>
  set(v8.getHeapStatistics().heap_size_limit),
);

/**
 * The heap in use just after the last full collection (mark-compact): what is alive. The heap in use between
 * collections also holds garbage not collected yet, which V8 lets grow for minutes on a machine with memory to spare:
 * a leak shows as this gauge rising collection after collection, not as the heap in use rising.
 */
let liveHeapBytes: number | undefined;
processGauge(
  "nodejs_heap_live_bytes",
  "V8's heap in use just after the process's last full (mark-compact) collection: what was alive then",
  [],
  (set) => {
    if (liveHeapBytes !== undefined) set(liveHeapBytes);
  },
);

function watchFullCollections(): void {
  new PerformanceObserver((entries) => {
    for (const entry of entries.getEntries()) {
      // A gc entry's detail names the kind of collection (Node 16 and later).
      if ((entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        liveHeapBytes = v8.getHeapStatistics().used_heap_size;
      }
    }
  }).observe({ entryTypes: ["gc"] });
}

/** Node's own metrics (event-loop delay, memory, CPU, GC) labelled with the process, and its gauges; once per process. */
export function instrumentProcess(role: string): void {
  if (observed.labels) return;
  observed.labels = { role, pid: String(process.pid) };
  collectDefaultMetrics({ register: metricsRegistry, labels: observed.labels });
  watchFullCollections();
}

/** The pool (and, in a web worker, its breaker) the gauges read. */
export function observePool(pool: DbPool, max: number, breaker: DatabaseBreaker | undefined): void {
  observed.pool = { pool, max, breaker };
}

/** What the background worker counts in Postgres for the gauges below. */
export interface Backlog {
  /** ready, scheduled, running, failed */
  jobs: Record<string, number>;
  webhookEvents: Record<string, number>;
  webhookEventsFailedLastHour: number;
  emails: Record<string, number>;
}
export type BacklogReader = () => Promise<Backlog>;

/** Scrapes come every few seconds at most; a slow database must not hold them up (the last values stay). */
const BACKLOG_TIMEOUT_MS = 1_000;
/** One read serves every gauge of a scrape, and scrapes that come together. */
const BACKLOG_REUSE_MS = 1_000;
let lastBacklog: { at: number; read: Promise<Backlog | undefined> } | undefined;

function currentBacklog(): Promise<Backlog | undefined> {
  const read = observed.backlog;
  if (!read) return Promise.resolve(undefined);
  if (lastBacklog && Date.now() - lastBacklog.at < BACKLOG_REUSE_MS) return lastBacklog.read;
  lastBacklog = { at: Date.now(), read: withDeadline(read(), BACKLOG_TIMEOUT_MS).catch(() => undefined) };
  return lastBacklog.read;
}

/** A gauge of the backlog by one label; statuses no longer counted drop to nothing rather than keep their last value. */
function backlogGauge(name: string, help: string, label: string, pick: (backlog: Backlog) => Record<string, number>): void {
  new Gauge({
    name,
    help,
    labelNames: [label],
    registers: [metricsRegistry],
    async collect() {
      const backlog = await currentBacklog();
      if (!backlog) return;
      this.reset();
      for (const [value, count] of Object.entries(pick(backlog))) this.set({ [label]: value }, count);
    },
  });
}

backlogGauge(
  "job_queue_jobs",
  "Jobs in the queue by state: ready (due, not taken yet), scheduled (due later, retries included), running, failed (out of attempts)",
  "state",
  (backlog) => backlog.jobs,
);
backlogGauge("webhook_events", "Stripe events in the inbox, by status", "status", (backlog) => backlog.webhookEvents);
backlogGauge("outbox_emails", "Emails in the outbox, by status", "status", (backlog) => backlog.emails);
new Gauge({
  name: "webhook_events_failed_last_hour",
  help: "Stripe events received in the last hour whose processing failed for good",
  registers: [metricsRegistry],
  async collect() {
    const backlog = await currentBacklog();
    if (backlog) this.set(backlog.webhookEventsFailedLastHour);
  },
});

/** The background worker counts the queue, the Stripe inbox and the email outbox at each scrape. */
export function observeBacklog(read: BacklogReader): void {
  observed.backlog = read;
}
