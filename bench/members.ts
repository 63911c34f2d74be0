// Simulated members for `npm run capacity -- --measure`: each one a closed loop, as a person using the web app at an
// event's peak (the capacity analysis's "pic d'activité": scans at the entrance, a wave of dues payments, Stripe's
// webhooks in bursts). A member opens a page (one to two API requests at once, on the keep-alive connections of their
// own browser), reads it for a think time, opens the next one. The load a member makes is set by the think time, not
// by how fast the product answers: more members, more load, which is what a count of simultaneous members means.
import http from "node:http";
import os from "node:os";
import { randomUUID } from "node:crypto";
import { BEHIND_TLS_PROXY } from "./fixtures.ts";
import type { BenchStripe } from "./stripe.ts";

/**
 * - browser: community home (profile and news), events, an event, my tickets, my communities, my dues;
 * - admin: the same, and the members and payments pages;
 * - door: staff scanning a fresh ticket at the entrance, about every SCAN_INTERVAL_MS;
 * - payer: the dues page, a Checkout session, Stripe's page, Stripe's webhook, back on the dues page.
 */
export type Persona = "browser" | "admin" | "door" | "payer";

/** One member in 20 scans at the door, one in 10 pays dues, one in 10 is an admin: any first N members hold the mix. */
export function personaOf(index: number): Persona {
  if (index % 20 === 0) return "door";
  if (index % 10 === 1) return "payer";
  if (index % 10 === 2) return "admin";
  return "browser";
}

/** A scan every 2 s on average per scanner: a holder steps up, shows the code, goes in. */
export const SCAN_INTERVAL_MS = 2_000;
/** p95 at or above this, or any error, and a step fails. */
export const P95_LIMIT_MS = 500;
/** A request unanswered after this counts as an error (a person gives up, or reloads). */
const REQUEST_TIMEOUT_MS = 10_000;
/** Idle keep-alive sockets are closed before the server's 5 s keepAliveTimeout would close them under a new request. */
const IDLE_SOCKET_MS = 4_000;
/** Connections a member's browser opens to the product: a page sends at most two requests at once. */
const SOCKETS_PER_MEMBER = 2;

export const DEFAULT_STEPS = [25, 50, 100, 200, 400, 800, 1_600, 3_200];

/** Exponential think time (a Poisson process of page views per member), `random` in [0, 1). */
export function thinkTimeMs(meanMs: number, random: () => number = Math.random): number {
  return -meanMs * Math.log(1 - random());
}

/** Nearest-rank percentile of `values` (need not be sorted); NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

/** Member counts to measure, rising: `spec` is a comma-separated list, DEFAULT_STEPS when empty. */
export function parseSteps(spec: string | undefined): number[] {
  if (spec === undefined || spec.trim() === "") return DEFAULT_STEPS;
  const steps = spec.split(",").map((part) => Number(part.trim()));
  if (steps.some((n, i) => !Number.isInteger(n) || n < 1 || (i > 0 && n <= (steps[i - 1] as number)))) {
    throw new Error(`steps must be rising whole numbers of members, e.g. 25,50,100: got "${spec}"`);
  }
  return steps;
}

export interface StepResult {
  members: number;
  /** Requests started in the held part of the step (after the ramp). */
  requests: number;
  reqPerSec: number;
  p50Ms: number;
  p95Ms: number;
  /** Unexpected statuses and connection errors over the whole step, ramp included. */
  errors: number;
  /** The most frequent errors, e.g. "POST /api/events/:id/checkins: 503" × 3. */
  errorKinds: Array<[kind: string, count: number]>;
  /** The routes of the highest p95 in the held part, e.g. ["GET /api/tickets", 812], slowest first. */
  slowest: Array<[kind: string, p95Ms: number]>;
  /** CPU the load generator (this process) used during the held part, in cores. */
  generatorCores: number;
  /** The machine's 1-minute load average at the end of the step: other work on the CPUs shows in it. */
  loadAverage: number;
}

export function passes(result: StepResult): boolean {
  return result.requests > 0 && result.errors === 0 && result.p95Ms < P95_LIMIT_MS;
}

/** The last step of a run that stopped at its first failure (or ran out of steps): undefined when the first failed. */
export function largestPassing(results: readonly StepResult[]): StepResult | undefined {
  const firstFailure = results.findIndex((result) => !passes(result));
  return results[(firstFailure === -1 ? results.length : firstFailure) - 1];
}

/** What the members act on, made in setup. */
export interface World {
  baseUrl: string;
  slug: string;
  eventId: string;
  stripe: BenchStripe;
  /** A ticket code nobody has scanned yet. */
  nextCode(): string;
}

export interface SignedInMember {
  index: number;
  cookie: string;
}

export interface StepOptions {
  thinkMs: number;
  rampMs: number;
  holdMs: number;
}

interface Sample {
  kind: string;
  startedAt: number;
  ms: number;
}

class StepRecorder {
  readonly samples: Sample[] = [];
  readonly errors = new Map<string, number>();

  async time(kind: string, expect: number, request: () => Promise<Answer>): Promise<Answer | undefined> {
    const startedAt = performance.now();
    try {
      const answer = await request();
      this.samples.push({ kind, startedAt, ms: performance.now() - startedAt });
      if (answer.status === expect) return answer;
      this.error(`${kind}: ${answer.status}`);
    } catch (error) {
      this.error(`${kind}: ${error instanceof Error ? error.message : String(error)}`);
    }
    return undefined;
  }

  error(kind: string): void {
    this.errors.set(kind, (this.errors.get(kind) ?? 0) + 1);
  }
}

interface Answer {
  status: number;
  text: string;
}

/**
 * One request, sent again once if the keep-alive connection it went out on was closed by the server at that moment
 * (reset before any answer): the server closed an idle connection and never read the request. Browsers do the same; the
 * idle timer above avoids most of these races, but a load generator short of CPU runs its timers late.
 */
async function send(agent: http.Agent, url: URL, method: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  try {
    return await sendOnce(agent, url, method, headers, body);
  } catch (error) {
    if (!(error instanceof StaleConnectionError)) throw error;
    return sendOnce(agent, url, method, headers, body);
  }
}

class StaleConnectionError extends Error {}

function sendOnce(agent: http.Agent, url: URL, method: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      {
        method,
        agent,
        headers:
          body === undefined ? headers : { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (text += chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, text }));
        response.on("error", reject);
      },
    );
    request.on("error", (error: NodeJS.ErrnoException) =>
      reject(request.reusedSocket && error.code === "ECONNRESET" ? new StaleConnectionError(error.message) : error),
    );
    request.end(body);
  });
}

/** A member's browser: their session cookie, their own keep-alive connections, their requests timed. */
class MemberClient {
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: SOCKETS_PER_MEMBER, timeout: IDLE_SOCKET_MS });
  readonly #headers: Record<string, string>;

  constructor(
    readonly world: World,
    readonly recorder: StepRecorder,
    /** Stripe's webhook deliveries share its own keep-alive connections, as its senders do. */
    readonly stripeAgent: http.Agent,
    cookie: string,
  ) {
    this.#headers = { ...BEHIND_TLS_PROXY, cookie };
  }

  /** `kind` names the route (ids left out) in the error counts. */
  request(method: string, path: string, kind: string, expect: number, body?: unknown): Promise<Answer | undefined> {
    const url = new URL(path, this.world.baseUrl);
    const json = body === undefined ? undefined : JSON.stringify(body);
    return this.recorder.time(`${method} ${kind}`, expect, () => send(this.#agent, url, method, this.#headers, json));
  }

  get(path: string, kind = path): Promise<Answer | undefined> {
    return this.request("GET", path, kind, 200);
  }

  close(): void {
    this.#agent.destroy();
  }
}

/** A page of the web app: the API requests it sends at once. */
type Page = (client: MemberClient) => Promise<unknown>;

const community = (client: MemberClient) => `/api/communities/${client.world.slug}`;

const MEMBER_PAGES: Page[] = [
  (c) => Promise.all([c.get(community(c), "/api/communities/:slug"), c.get(`${community(c)}/news`, "/api/communities/:slug/news")]),
  (c) => c.get(`${community(c)}/events`, "/api/communities/:slug/events"),
  (c) => c.get(`/api/events/${c.world.eventId}`, "/api/events/:id"),
  (c) => c.get("/api/tickets"),
  (c) => c.get("/api/communities"),
  (c) => c.get(`${community(c)}/dues`, "/api/communities/:slug/dues"),
];

const ADMIN_PAGES: Page[] = [
  ...MEMBER_PAGES,
  (c) => c.get(`${community(c)}/members`, "/api/communities/:slug/members"),
  (c) => c.get(`${community(c)}/payments`, "/api/communities/:slug/payments"),
];

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)] as T;

/** Waits `ms`, or until `deadline` (performance.now()) if sooner; false once the deadline has passed. */
async function thinkUntil(ms: number, deadline: number): Promise<boolean> {
  const wait = Math.min(ms, deadline - performance.now());
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  return performance.now() < deadline;
}

/** Stripe's side of a paid Checkout: the session completes and its `checkout.session.completed` is delivered, signed. */
function stripeDelivers(client: MemberClient, checkoutUrl: string): Promise<Answer | undefined> {
  const { stripe } = client.world;
  // The double's Checkout pages are at /pay/<session id>.
  const session = stripe.fake.completeCheckout(new URL(checkoutUrl).pathname.split("/").pop() ?? "");
  const event = stripe.fake.events.at(-1);
  if (event?.type !== "checkout.session.completed" || event.data.object.id !== session.id) {
    throw new Error("the bench's Stripe recorded no checkout.session.completed for the session it completed");
  }
  const payload = JSON.stringify(event);
  const headers = {
    "content-type": "application/json; charset=utf-8",
    "stripe-signature": stripe.fake.signature(payload, stripe.webhookSecret),
  };
  const url = new URL("/api/webhooks/stripe", client.world.baseUrl);
  return client.recorder.time("POST /api/webhooks/stripe", 200, () => send(client.stripeAgent, url, "POST", headers, payload));
}

/** One member's closed loop until `deadline`: a page, a think time, the next page. */
async function live(client: MemberClient, persona: Persona, options: StepOptions, deadline: number): Promise<void> {
  const think = () => thinkTimeMs(persona === "door" ? SCAN_INTERVAL_MS : options.thinkMs);
  if (!(await thinkUntil(Math.random() * options.rampMs, deadline))) return;
  do {
    if (persona === "door") {
      const code = client.world.nextCode();
      await client.request("POST", `/api/events/${client.world.eventId}/checkins`, "/api/events/:id/checkins", 201, {
        code,
        nonce: randomUUID(),
      });
    } else if (persona === "payer") {
      await client.get(`${community(client)}/dues`, "/api/communities/:slug/dues");
      if (!(await thinkUntil(think(), deadline))) return;
      const checkout = await client.request("POST", `${community(client)}/dues/checkout`, "/api/communities/:slug/dues/checkout", 200);
      // On Stripe's page: no request to the product meanwhile.
      if (!checkout || !(await thinkUntil(think(), deadline))) continue;
      await stripeDelivers(client, (JSON.parse(checkout.text) as { url: string }).url);
      await client.get(`${community(client)}/dues`, "/api/communities/:slug/dues");
    } else {
      await pick(persona === "admin" ? ADMIN_PAGES : MEMBER_PAGES)(client);
    }
  } while (await thinkUntil(think(), deadline));
}

/**
 * `members` live for `rampMs + holdMs`, each starting at a random instant of the ramp; latency and throughput are read
 * from the requests started after the ramp, errors from the whole step. Returns once every member's last request is over.
 */
export async function runStep(world: World, members: readonly SignedInMember[], options: StepOptions): Promise<StepResult> {
  const recorder = new StepRecorder();
  const started = performance.now();
  const holdFrom = started + options.rampMs;
  const deadline = holdFrom + options.holdMs;
  let cpuAtHold: NodeJS.CpuUsage | undefined;
  const holdTimer = setTimeout(() => (cpuAtHold = process.cpuUsage()), options.rampMs);
  let cpuHeld = 0;
  const endTimer = setTimeout(() => {
    const used = process.cpuUsage(cpuAtHold);
    cpuHeld = (used.user + used.system) / 1_000;
  }, options.rampMs + options.holdMs);
  const stripeAgent = new http.Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS });
  const clients = members.map((member) => new MemberClient(world, recorder, stripeAgent, member.cookie));
  try {
    await Promise.all(
      members.map((member, i) =>
        live(clients[i] as MemberClient, personaOf(member.index), options, deadline).catch((error: unknown) =>
          recorder.error(`member's loop: ${error instanceof Error ? error.message : String(error)}`),
        ),
      ),
    );
  } finally {
    clearTimeout(holdTimer);
    clearTimeout(endTimer);
    for (const client of clients) client.close();
    stripeAgent.destroy();
  }
  const heldSamples = recorder.samples.filter((sample) => sample.startedAt >= holdFrom && sample.startedAt < deadline);
  const held = heldSamples.map((sample) => sample.ms);
  const errors = [...recorder.errors.values()].reduce((sum, n) => sum + n, 0);
  return {
    members: members.length,
    requests: held.length,
    reqPerSec: held.length / (options.holdMs / 1_000),
    p50Ms: percentile(held, 50),
    p95Ms: percentile(held, 95),
    errors,
    errorKinds: [...recorder.errors.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5),
    slowest: slowestRoutes(heldSamples, 3),
    generatorCores: cpuHeld / options.holdMs,
    loadAverage: os.loadavg()[0] ?? Number.NaN,
  };
}

/** The `top` routes by p95. */
function slowestRoutes(samples: readonly Sample[], top: number): Array<[kind: string, p95Ms: number]> {
  const byKind = new Map<string, number[]>();
  for (const { kind, ms } of samples) {
    const values = byKind.get(kind) ?? [];
    values.push(ms);
    byKind.set(kind, values);
  }
  return [...byKind.entries()]
    .map(([kind, values]): [string, number] => [kind, percentile(values, 95)])
    .sort((a, b) => b[1] - a[1])
    .slice(0, top);
}
