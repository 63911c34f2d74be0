// What the harness measures. Each scenario is run against the product and, as a
// reference point, against the bare Express baseline.
import type autocannon from "autocannon";

export type HttpMethod = NonNullable<autocannon.Request["method"]>;

/** What a scenario's setup hands to autocannon for the product run. */
export interface ScenarioLoad {
  /** Sent with every request, e.g. `{ cookie: 'sid=...' }` from a login done in setup. */
  headers?: Record<string, string>;
  /** Fixed request body; use `requests` instead when each request needs a fresh one. */
  body?: string;
  /**
   * Autocannon request sequence, cycled per connection. Entries override the
   * scenario's method/path and the headers/body above; an entry's `setupRequest`
   * runs before every request, which is how per-request bodies are built.
   */
  requests?: autocannon.Request[];
}

export interface Scenario {
  /** Unique; `BENCH_SCENARIOS` filters on substrings of it. */
  name: string;
  method: HttpMethod;
  path: string;
  /**
   * Runs once against the product before its measured run (not against the
   * baseline, which only knows its hello-world routes), e.g. to log in or seed data.
   */
  setup?: (baseUrl: string) => Promise<ScenarioLoad>;
  /**
   * Plain GET served by the baseline for comparison: the cost of bare Express +
   * cluster on this machine, i.e. the ceiling for this scenario's req/s.
   */
  baselinePath: string;
}

/**
 * To add a scenario, append to this list. Typical shapes:
 *
 *   // Authenticated read: log in once, reuse the session cookie.
 *   { name: 'GET /api/me', method: 'GET', path: '/api/me', baselinePath: '/api/health',
 *     setup: async (baseUrl) => ({
 *       headers: { cookie: await loginCookie(baseUrl, '/api/auth/login', { email: 'a@b.c', password: '...' }) },
 *     }) },
 *
 *   // Write with a body built per request (e.g. a fresh QR code each time).
 *   { name: 'POST /api/checkins', method: 'POST', path: '/api/checkins', baselinePath: '/api/health',
 *     setup: async (baseUrl) => {
 *       const cookie = await loginCookie(baseUrl, '/api/auth/login', credentials);
 *       return { requests: jsonBodyPerRequest('POST', '/api/checkins', () => ({ qr: randomUUID() }), { cookie }) };
 *     } },
 */
export const scenarios: readonly Scenario[] = [
  { name: "GET /api/health/live", method: "GET", path: "/api/health/live", baselinePath: "/api/health/live" },
  { name: "GET /api/health", method: "GET", path: "/api/health", baselinePath: "/api/health" },
];

/** Scenarios whose name contains any of the comma-separated substrings (all if unset). */
export function selectScenarios(filter: string | undefined): Scenario[] {
  const needles = (filter ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (needles.length === 0) return [...scenarios];
  return scenarios.filter((s) => needles.some((needle) => s.name.includes(needle)));
}

/**
 * Logs in with a JSON body and returns a `cookie` header value made of every
 * Set-Cookie the response carried. Throws on non-2xx so a broken login fails
 * the scenario up front instead of benchmarking 401s.
 */
export async function loginCookie(baseUrl: string, path: string, credentials: unknown): Promise<string> {
  const res = await fetch(new URL(path, baseUrl), {
    method: "POST",
    headers: { "content-type": "application/json", connection: "close" },
    body: JSON.stringify(credentials),
    redirect: "manual",
  });
  await res.body?.cancel();
  if (!res.ok) throw new Error(`login ${path} failed: HTTP ${res.status}`);
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
  if (cookie === "") throw new Error(`login ${path} set no cookie`);
  return cookie;
}

/** A one-entry request sequence whose JSON body is rebuilt by `makeBody` before every request. */
export function jsonBodyPerRequest(
  method: HttpMethod,
  path: string,
  makeBody: () => unknown,
  headers: Record<string, string> = {},
): autocannon.Request[] {
  return [
    {
      method,
      path,
      headers: { "content-type": "application/json", ...headers },
      // Autocannon recomputes content-length from the returned body.
      setupRequest: (request) => ({ ...request, body: JSON.stringify(makeBody()) }),
    },
  ];
}
