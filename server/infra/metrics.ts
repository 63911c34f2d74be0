import { Counter, Gauge, Histogram, Registry } from "prom-client";

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

export const jobFailures = new Counter({
  name: "job_failures_total",
  help: "Job attempts that failed, by task",
  labelNames: ["task"] as const,
  registers: [metricsRegistry],
});
