// What the harness measures. Each scenario is run against the product and, as a
// reference point, against the bare Express baseline.
import type autocannon from "autocannon";
import type { CommunityDto, MemberDto } from "../shared/api/communities.ts";
import type { Page } from "../shared/api/pagination.ts";
import {
  BEHIND_TLS_PROXY,
  call,
  checkinStats,
  createCommunity,
  createEvent,
  join,
  putOnPlan,
  mapLimit,
  once,
  register,
  seedTickets,
  SetupError,
} from "./fixtures.ts";
import { webhookLoad, type BenchStripe } from "./stripe.ts";

export type HttpMethod = NonNullable<autocannon.Request["method"]>;

/** What run.ts knows about this run, handed to each scenario's setup. */
export interface SetupContext {
  /** Origin of the product. */
  baseUrl: string;
  /** The product's database when the bench can reach it too (DATABASE_URL or the local `community_bench`); undefined with embedded Postgres. */
  databaseUrl: string | undefined;
  /** The product's TICKET_SIGNING_KEY for this run. */
  ticketSigningKey: string;
  /** Where the product keeps sessions, for the printed notes. */
  sessionStore: string;
  connections: number;
  durationS: number;
  /** 0 when no warm-up precedes the measured run. */
  warmupS: number;
  /** The Stripe the product talks to, and the secret its webhooks are signed with. */
  stripe: BenchStripe;
}

/** What a scenario's setup hands to autocannon for the product run. */
export interface ScenarioLoad {
  /** Replaces the scenario's `path`, e.g. with the slug of the community made in setup. */
  path?: string;
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
  /** Lines printed under the table once the measured run is over (e.g. how many one-time codes were used). */
  notes?: () => Promise<string[]>;
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
  setup?: (context: SetupContext) => Promise<ScenarioLoad>;
  /** Why the scenario cannot run in this environment (it is then skipped, reason printed), or undefined. */
  unavailable?: (context: Pick<SetupContext, "databaseUrl">) => string | undefined;
  /** The status every product answer should have (default 200); run.ts counts and flags the others. */
  expectStatus?: number;
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
 *     setup: async ({ baseUrl }) => ({
 *       headers: { cookie: await loginCookie(baseUrl, '/api/auth/login', { email: 'a@b.c', password: '...' }) },
 *     }) },
 *
 *   // Write with a body built per request (e.g. a fresh QR code each time).
 *   { name: 'POST /api/checkins', method: 'POST', path: '/api/checkins', baselinePath: '/api/health',
 *     setup: async ({ baseUrl }) => {
 *       const cookie = await loginCookie(baseUrl, '/api/auth/login', credentials);
 *       return { requests: jsonBodyPerRequest('POST', '/api/checkins', () => ({ qr: randomUUID() }), { cookie }) };
 *     } },
 */
export const scenarios: readonly Scenario[] = [
  { name: "GET /api/health/live", method: "GET", path: "/api/health/live", baselinePath: "/api/health/live" },
  { name: "GET /api/health", method: "GET", path: "/api/health", baselinePath: "/api/health" },
  {
    name: "GET /api/communities/:slug",
    method: "GET",
    path: "/api/communities/:slug",
    baselinePath: "/api/health",
    setup: publicProfileSetup,
  },
  {
    name: "GET /api/communities/:slug/members",
    method: "GET",
    path: "/api/communities/:slug/members",
    baselinePath: "/api/health",
    setup: membersSetup,
  },
  {
    name: "POST /api/events/:eventId/checkins",
    method: "POST",
    path: "/api/events/:eventId/checkins",
    baselinePath: "/api/health",
    expectStatus: 201,
    unavailable: ({ databaseUrl }) =>
      databaseUrl
        ? undefined
        : "tickets are seeded with SQL and the product's database is out of reach (no DATABASE_URL, no Postgres at 127.0.0.1:5432)",
    setup: checkinsSetup,
  },
  {
    name: "POST /api/webhooks/stripe",
    method: "POST",
    path: "/api/webhooks/stripe",
    baselinePath: "/api/health",
    unavailable: ({ databaseUrl }) =>
      databaseUrl
        ? undefined
        : "the processing lag is read from the product's database, out of reach (no DATABASE_URL, no Postgres at 127.0.0.1:5432)",
    setup: ({ baseUrl, databaseUrl, stripe }) => webhookLoad(baseUrl, databaseUrl!, stripe),
  },
];

// --- Public community profile ----------------------------------------------------

const profileCommunity = once(async (baseUrl) => {
  const owner = await register(baseUrl, "Bench owner");
  return createCommunity(baseUrl, owner, "open");
});

/** Anonymous reads of one community's public profile (an owner registered and created it through the API). */
async function publicProfileSetup({ baseUrl }: SetupContext): Promise<ScenarioLoad> {
  const community = await profileCommunity(baseUrl);
  const path = `/api/communities/${community.slug}`;
  const { body } = await call<{ community: CommunityDto }>(baseUrl, "GET", path, { expect: 200 });
  if (body.community.id !== community.id) throw new SetupError(`GET ${path} answered another community`);
  return { path };
}

// --- Member list, signed in ---------------------------------------------------------

/** Members of the community, the owner included. */
const MEMBER_COUNT = 50;
/** Registrations in flight at once: each is an argon2 hash on the product's side. */
const REGISTER_CONCURRENCY = 4;

const membersCommunity = once(async (baseUrl) => {
  const owner = await register(baseUrl, "Bench owner");
  const community = await createCommunity(baseUrl, owner, "open");
  const names = Array.from({ length: MEMBER_COUNT - 1 }, (_, i) => `Bench member ${String(i + 1).padStart(2, "0")}`);
  const members = await mapLimit(names, REGISTER_CONCURRENCY, async (name) => {
    const member = await register(baseUrl, name);
    await join(baseUrl, member, community.slug);
    return member;
  });
  const reader = members[0];
  if (reader === undefined) throw new SetupError("no member registered");
  return { community, reader };
});

/**
 * A signed-in plain member reads the first page (default limit, 20) of a
 * 50-member open community's member list; members registered and joined through
 * the API, the member's session cookie on every request.
 */
async function membersSetup({ baseUrl, sessionStore }: SetupContext): Promise<ScenarioLoad> {
  const { community, reader } = await membersCommunity(baseUrl);
  const path = `/api/communities/${community.slug}/members`;
  const headers = { cookie: reader.cookie, ...BEHIND_TLS_PROXY };
  const { body } = await call<Page<MemberDto>>(baseUrl, "GET", path, { cookie: reader.cookie, expect: 200 });
  if (body.items.length !== 20 || body.nextCursor === null) {
    throw new SetupError(`GET ${path} listed ${body.items.length} members (next cursor ${body.nextCursor}), expected a first page of 20`);
  }
  return {
    path,
    headers,
    notes: async () => [`a member of a ${MEMBER_COUNT}-member community reads page 1 (20 members); sessions in ${sessionStore}`],
  };
}

// --- Check-in at the door -------------------------------------------------------------

/**
 * Codes made per connection and second of load (warm-up included). The most
 * observed on this harness is about 3 scans/s per connection (≈300 req/s with 100
 * connections on 2 CPUs); 25 leaves a wide margin for faster machines.
 */
const CODES_PER_CONNECTION_SECOND = 25;
const MIN_CODES = 20_000;
/** Sent once the codes run out: a 422 `unknown_code`, counted as non-2xx rather than passing for a check-in. */
const EXHAUSTED_CODE = "bench-ran-out-of-codes";

const checkinCommunity = once(async (baseUrl) => {
  const owner = await register(baseUrl, "Bench owner");
  const community = await createCommunity(baseUrl, owner, "invite");
  return { owner, community };
});

/**
 * The owner (who may scan, owner ≥ staff) scans fresh valid codes at the door of
 * an event created through the API: every request takes the next unused code,
 * so every answer should be a first check-in (201). The holders, tens of
 * thousands, are inserted with SQL (see seedTickets); a new event per setup, so
 * repeated rounds never rescan a code.
 */
async function checkinsSetup(context: SetupContext): Promise<ScenarioLoad> {
  const { baseUrl, databaseUrl } = context;
  if (!databaseUrl) throw new SetupError("check-ins need the bench database");
  const { owner, community } = await checkinCommunity(baseUrl);
  // Tens of thousands of members and an event per round: beyond what the free plan allows.
  await putOnPlan(databaseUrl, community.id, "premium");
  const event = await createEvent(baseUrl, owner, community.slug);
  const count = Math.max(MIN_CODES, Math.ceil(context.connections * (context.durationS + context.warmupS) * CODES_PER_CONNECTION_SECOND));
  const codes = await seedTickets({
    databaseUrl,
    communityId: community.id,
    eventId: event.id,
    count,
    ticketSigningKey: context.ticketSigningKey,
  });
  const before = await checkinStats(baseUrl, owner, event.id);
  if (before.ticketsIssued !== count || before.checkedIn !== 0) {
    throw new SetupError(`event stats after seeding: ${JSON.stringify(before)}, expected ${count} tickets issued and none checked in`);
  }
  let handedOut = 0;
  const nextCode = (): string => codes[handedOut++] ?? EXHAUSTED_CODE;
  const path = `/api/events/${event.id}/checkins`;
  return {
    path,
    requests: jsonBodyPerRequest("POST", path, () => ({ code: nextCode() }), { cookie: owner.cookie, ...BEHIND_TLS_PROXY }),
    notes: async () => {
      const stats = await checkinStats(baseUrl, owner, event.id);
      const lines = [
        `${codes.length.toLocaleString("en-US")} tickets seeded, ${Math.min(handedOut, codes.length).toLocaleString("en-US")} codes handed out ` +
          `(warm-up included), ${stats.checkedIn.toLocaleString("en-US")} checked in per the product's stats; sessions in ${context.sessionStore}`,
      ];
      if (handedOut > codes.length) {
        lines.push(
          `RAN OUT OF CODES: ${(handedOut - codes.length).toLocaleString("en-US")} scans sent an invalid code (422); raise CODES_PER_CONNECTION_SECOND in bench/scenarios.ts`,
        );
      }
      return lines;
    },
  };
}

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
