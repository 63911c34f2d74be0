// One load run, with wrk when it is installed (one thread: the most CPU left to the servers), else autocannon. Both
// give the same figures, except the latencies by request class, which only wrk's script reads (from the echoed
// request id); autocannon times every answer by status under one class, "all".
import autocannon from "autocannon";
import { addLatency, type LatencyBuckets } from "./latency.ts";
import { runWrk, wrkAvailable, type LoadRequest, type WrkResult } from "./wrk.ts";

export type { LoadRequest } from "./wrk.ts";

export type GeneratorName = "wrk" | "autocannon";

/** BENCH_GENERATOR=autocannon forces the fallback, e.g. to compare the two on one machine. */
export const generator: GeneratorName = process.env.BENCH_GENERATOR === "autocannon" || !wrkAvailable() ? "autocannon" : "wrk";

/**
 * Requests a run prepares per second of load when each request must differ (one-time codes, signed events): above
 * what this product does on a small machine. wrk needs them written out before it starts; once used up they repeat,
 * which the scenarios detect (a code scanned twice is not a first check-in, 200 instead of 201).
 */
export const REQUESTS_PER_SECOND_BUDGET = 4_000;

export interface LoadSpec {
  /** Origin of the server. */
  url: string;
  /** Sent with every request, under each request's own. */
  headers: Record<string, string>;
  /** The next request to send: called once per request (autocannon) or ahead of the run for its budget (wrk). */
  next: () => LoadRequest;
  /** False when every request is the same: one is made, and sent over and over. */
  varies: boolean;
  connections: number;
  durationS: number;
}

/** What either load generator measured: wrk's result, with how many distinct requests it was given. */
export interface LoadResult extends WrkResult {
  /** Distinct requests prepared (wrk), when they vary; fewer than `requests` means some were sent twice. */
  prepared: number | undefined;
}

/** Longest load prepared request by request: a longer one (the soak) repeats its requests after that much. */
const MAX_PREPARED_S = 15;

export function budget(durationS: number): number {
  return Math.ceil(Math.min(durationS, MAX_PREPARED_S) * REQUESTS_PER_SECOND_BUDGET);
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return generator === "wrk" ? withWrk(spec) : withAutocannon(spec);
}

async function withWrk(spec: LoadSpec): Promise<LoadResult> {
  const requests = spec.varies ? Array.from({ length: budget(spec.durationS) }, spec.next) : [spec.next()];
  const result = await runWrk({
    url: spec.url,
    headers: spec.headers,
    requests,
    connections: spec.connections,
    threads: 1,
    durationS: spec.durationS,
  });
  return { ...result, prepared: spec.varies ? requests.length : undefined };
}

async function withAutocannon(spec: LoadSpec): Promise<LoadResult> {
  const byStatus: Record<string, LatencyBuckets> = {};
  const options: autocannon.Options = {
    url: spec.url,
    connections: spec.connections,
    duration: spec.durationS,
    requests: [
      {
        setupRequest: (request) => {
          const next = spec.next();
          return {
            ...request,
            method: next.method as autocannon.Request["method"],
            path: next.path,
            headers: { ...spec.headers, ...next.headers },
            body: next.body,
          };
        },
      },
    ],
  };
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(options, (error: unknown, done) => (error ? reject(error as Error) : resolve(done)));
    instance.on("response", (_client, statusCode, _bytes, responseTime) => addLatency((byStatus[String(statusCode)] ??= {}), responseTime));
  });
  const statuses = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([status, stat]) => [status, stat.count ?? 0]));
  return {
    requests: result.requests.total,
    prepared: undefined,
    reqPerSec: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts,
    statuses,
    timings: { all: byStatus },
  };
}
