// What the harness measures. Each scenario is run against the product and, as a
// reference point, against the bare Express baseline; the database-bound ones also
// against their database ceiling (bench/db-ceiling.ts).
import type { CommunityDto, MemberDto } from "../shared/api/communities.ts";
import type { Page } from "../shared/api/pagination.ts";
import { CheckinsRepository } from "../server/modules/checkins/checkins.repo.ts";
import { CommunitiesRepository } from "../server/modules/communities/index.ts";
import { EventsRepository } from "../server/modules/events/events.repo.ts";
import type { DbWork } from "./db-ceiling.ts";
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
  type SeededTicket,
  type SignedIn,
} from "./fixtures.ts";
import type { LoadRequest } from "./load.ts";
import { MIX_WEIGHTS, weightedPicker, type MixClass } from "./mixed.ts";
import { processingLag, webhookDeliveries, webhookLoad, type BenchStripe } from "./stripe.ts";

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
  /** Requests prepared for a run of so many seconds (load.ts): one-time codes are made for that many. */
  budget: (durationS: number) => number;
  /** The Stripe the product talks to, and the secret its webhooks are signed with. */
  stripe: BenchStripe;
}

/** What a scenario's setup hands to the load generator for the product run. */
export interface ScenarioLoad {
  /** Replaces the scenario's `path`, e.g. with the slug of the community made in setup. */
  path?: string;
  /** Sent with every request, e.g. `{ cookie: 'sid=...' }` from a login done in setup. */
  headers?: Record<string, string>;
  /** When each request must differ (a fresh QR code, a newly signed event, a mix): the next one, over and over. */
  next?: () => LoadRequest;
  /** The statuses each request class of a mix should get (default: the scenario's `accept`, for every class). */
  accept?: Record<string, readonly number[]>;
  /** The same request's database work, run straight on a pool: the scenario's database ceiling. */
  dbCeiling?: DbWork;
  /** Lines printed under the table once the measured run is over (e.g. how many one-time codes were used). */
  notes?: () => Promise<string[]>;
}

export interface Scenario {
  /** Unique; `BENCH_SCENARIOS` filters on substrings of it. */
  name: string;
  method: "GET" | "POST";
  path: string;
  /**
   * Runs once against the product before its measured run (not against the
   * baseline, which only knows its hello-world routes), e.g. to log in or seed data.
   */
  setup?: (context: SetupContext) => Promise<ScenarioLoad>;
  /** Why the scenario cannot run in this environment (it is then skipped, reason printed), or undefined. */
  unavailable?: (context: Pick<SetupContext, "databaseUrl">) => string | undefined;
  /** The statuses the product's answers should have (default 200 only); run.ts counts and flags the others. */
  accept?: readonly number[];
  /** Connections of this scenario, both targets (default BENCH_CONNECTIONS): the overload goes far beyond. */
  connections?: number;
  /**
   * Plain GET served by the baseline for comparison: the cost of bare Express +
   * cluster on this machine, i.e. the ceiling for this scenario's req/s.
   */
  baselinePath: string;
}

const needsDatabase =
  (what: string) =>
  ({ databaseUrl }: Pick<SetupContext, "databaseUrl">): string | undefined =>
    databaseUrl ? undefined : `${what} and the product's database is out of reach (no DATABASE_URL, no Postgres at 127.0.0.1:5432)`;

/** Connections of the overload: ten times the default load, far beyond what two CPUs serve in time. */
export const OVERLOAD_CONNECTIONS = 1_000;

/** To add a scenario, append to this list (the setups below show the usual shapes). */
export const scenarios: readonly Scenario[] = [
  { name: "GET /api/health/live", method: "GET", path: "/api/health/live", baselinePath: "/api/health/live" },
  {
    name: "GET /api/communities/:slug",
    method: "GET",
    path: "/api/communities/:slug",
    baselinePath: "/api/health",
    setup: publicProfileSetup,
  },
  { name: "GET /api/plans", method: "GET", path: "/api/plans", baselinePath: "/api/health" },
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
    accept: [201],
    unavailable: needsDatabase("tickets are seeded with SQL"),
    setup: checkinsSetup,
  },
  {
    name: "POST /api/webhooks/stripe",
    method: "POST",
    path: "/api/webhooks/stripe",
    baselinePath: "/api/health",
    unavailable: needsDatabase("the processing lag is read from the product's database"),
    setup: ({ baseUrl, databaseUrl, stripe }) => webhookLoad(baseUrl, databaseUrl!, stripe),
  },
  {
    name: "mixed peak",
    method: "GET",
    path: "/api/communities/:slug",
    baselinePath: "/api/health",
    accept: [200, 201],
    unavailable: needsDatabase("the door's tickets are seeded with SQL"),
    setup: mixedPeakSetup,
  },
  {
    name: "overload: members page",
    method: "GET",
    path: "/api/communities/:slug/members",
    baselinePath: "/api/health",
    // 503 `overloaded` is the product shedding what it cannot serve in time: counted, not an error of the bench.
    accept: [200, 503],
    connections: OVERLOAD_CONNECTIONS,
    setup: async (context) => {
      const { dbCeiling: _ceiling, ...load } = await membersSetup(context);
      return load;
    },
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
/** The page size the product uses when the query names none. */
const DEFAULT_PAGE = 20;

/** A 50-member open community (registered and joined through the API), its owner and a plain member. */
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
  return { community, owner, reader };
});

const communitiesRepo = new CommunitiesRepository();
const eventsRepo = new EventsRepository();
const checkinsRepo = new CheckinsRepository();

/**
 * What GET /communities/:slug/members asks the database for a signed-in member: the first page (the session's user
 * and the caller's role in the community come from the cache).
 */
function membersCeiling(community: CommunityDto): DbWork {
  return {
    calls: "membersPage (the signed-in user and their role come from the cache)",
    run: async (db) => {
      await communitiesRepo.membersPage(db, { communityId: community.id, limit: DEFAULT_PAGE, adminView: false });
    },
  };
}

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
  if (body.items.length !== DEFAULT_PAGE || body.nextCursor === null) {
    throw new SetupError(`GET ${path} listed ${body.items.length} members (next cursor ${body.nextCursor}), expected a first page of 20`);
  }
  return {
    path,
    headers,
    dbCeiling: membersCeiling(community),
    notes: async () => [`a member of a ${MEMBER_COUNT}-member community reads page 1 (20 members); sessions in ${sessionStore}`],
  };
}

// --- Check-in at the door -------------------------------------------------------------

const checkinCommunity = once(async (baseUrl) => {
  const owner = await register(baseUrl, "Bench owner");
  const community = await createCommunity(baseUrl, owner, "invite");
  return { owner, community };
});

interface Door {
  owner: SignedIn;
  eventId: string;
  /** Valid tickets of the event, none checked in. */
  tickets: SeededTicket[];
}

/**
 * An event created through the API by the owner (who may scan, owner ≥ staff) with `count` valid tickets; the
 * holders, tens of thousands, are inserted with SQL (see seedTickets). A new event each time, so repeated rounds
 * never rescan a code.
 */
async function openDoor(context: SetupContext, count: number): Promise<Door> {
  const { baseUrl, databaseUrl } = context;
  if (!databaseUrl) throw new SetupError("check-ins need the bench database");
  const { owner, community } = await checkinCommunity(baseUrl);
  // Tens of thousands of members and an event per round: beyond what the free plan allows.
  await putOnPlan(databaseUrl, community.id, "premium");
  const event = await createEvent(baseUrl, owner, community.slug);
  const tickets = await seedTickets({
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
  return { owner, eventId: event.id, tickets };
}

/** The door's next scan: each code in turn, then again from the first (a second scan answers 200, not 201). */
function scans(door: Door, cls: string): { next: () => LoadRequest; handedOut: () => number } {
  let handedOut = 0;
  const path = `/api/events/${door.eventId}/checkins`;
  const headers = { "content-type": "application/json", cookie: door.owner.cookie, ...BEHIND_TLS_PROXY };
  return {
    next: () => {
      const ticket = door.tickets[handedOut++ % door.tickets.length]!;
      return { class: cls, method: "POST", path, headers, body: JSON.stringify({ code: ticket.code }) };
    },
    handedOut: () => handedOut,
  };
}

/**
 * What a first scan without a nonce asks the database (the session's user comes from the cache): the event with the
 * scanner's role (EventAccess.authorize), the ticket with its holder's name, the check-in statement. The ceiling scans tickets of a
 * door of its own, so that each is a first check-in too.
 */
function checkinCeiling(door: Door): DbWork {
  return {
    calls: "findForMember + findTicket + checkIn",
    run: async (db, i) => {
      const ticket = door.tickets[i % door.tickets.length]!;
      await eventsRepo.findForMember(db, door.eventId, door.owner.user.id);
      await checkinsRepo.findTicket(db, ticket.ticketId, door.eventId);
      await checkinsRepo.checkIn(db, ticket.ticketId, door.eventId, door.owner.user.id);
    },
  };
}

/**
 * The owner scans fresh valid codes at the door: every request takes the next unused code, so every answer should
 * be a first check-in (201).
 */
async function checkinsSetup(context: SetupContext): Promise<ScenarioLoad> {
  const count = context.budget(context.warmupS) + context.budget(context.durationS);
  const [door, ceilingDoor] = [await openDoor(context, count), await openDoor(context, count)];
  const { next, handedOut } = scans(door, "checkin");
  return {
    next,
    dbCeiling: checkinCeiling(ceilingDoor),
    notes: async () => {
      const stats = await checkinStats(context.baseUrl, door.owner, door.eventId);
      const sent = handedOut();
      return [
        `${count.toLocaleString("en-US")} tickets seeded, ${sent.toLocaleString("en-US")} scans prepared (warm-up included), ` +
          `${stats.checkedIn.toLocaleString("en-US")} checked in per the product's stats; sessions in ${context.sessionStore}`,
      ];
    },
  };
}

// --- Mixed peak (bench/mixed.ts) --------------------------------------------------------

/** Scans prepared beyond the check-in share of the budget, for the draw's ups and downs. */
const SCAN_MARGIN = 1.2;

/** The weighted mix over the members community, a door of its own and the subscriptions of the webhook scenario. */
async function mixedPeakSetup(context: SetupContext): Promise<ScenarioLoad> {
  const { baseUrl, databaseUrl, stripe } = context;
  const { community, owner, reader } = await membersCommunity(baseUrl);
  await createEvent(baseUrl, owner, community.slug);
  const share = MIX_WEIGHTS.checkin / Object.values(MIX_WEIGHTS).reduce((sum, weight) => sum + weight, 0);
  const budget = context.budget(context.warmupS) + context.budget(context.durationS);
  const door = await openDoor(context, Math.ceil(budget * share * SCAN_MARGIN));
  const scan = scans(door, "checkin");
  const since = new Date();
  const deliver = await webhookDeliveries(baseUrl, stripe, "webhook");
  const member = { cookie: reader.cookie, ...BEHIND_TLS_PROXY };
  const base = `/api/communities/${community.slug}`;
  const get = (cls: MixClass, path: string, headers: Record<string, string> = {}): (() => LoadRequest) => {
    const request: LoadRequest = { class: cls, method: "GET", path, headers };
    return () => request;
  };
  const make: Record<MixClass, () => LoadRequest> = {
    profile: get("profile", base),
    news: get("news", `${base}/news`, member),
    events: get("events", `${base}/events`, member),
    members: get("members", `${base}/members`, member),
    checkin: scan.next,
    webhook: deliver,
  };
  const pick = weightedPicker(MIX_WEIGHTS);
  return {
    next: () => make[pick()](),
    accept: { profile: [200], news: [200], events: [200], members: [200], checkin: [201], webhook: [200] },
    notes: async () => [
      `weights ${Object.entries(MIX_WEIGHTS)
        .map(([cls, weight]) => `${cls} ${weight}`)
        .join(
          ", ",
        )}; ${door.tickets.length.toLocaleString("en-US")} tickets at the door, ${scan.handedOut().toLocaleString("en-US")} scans prepared`,
      ...(databaseUrl ? await processingLag(databaseUrl, since) : []),
    ],
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
