// Data the scenarios run against, made the way clients make it: through the
// product's API (registration, communities, joins, events). Bulk tickets are the
// exception: tens of thousands of holders go straight into the bench database
// with SQL, since as many argon2 registrations would take longer than the run.
//
// Every helper throws a SetupError carrying the product's answer when a step does
// not get the status it needs: a broken setup must stop the run, not turn into a
// table of 4xx measured as if they were the scenario.
import { randomBytes, randomUUID } from "node:crypto";
import pg from "pg";
import type { UserDto } from "../shared/api/auth.ts";
import type { CommunityDto } from "../shared/api/communities.ts";
import type { CheckinStats, EventDto } from "../shared/api/events.ts";
import { TicketCodes } from "../server/modules/tickets/ticket-code.ts";

export class SetupError extends Error {}

/**
 * Sent with every request to the product. In production the session cookie is
 * `Secure`, so the product only sets it on HTTPS requests: the bench talks plain
 * HTTP to it the way a deployment's TLS-terminating proxy does (the product runs
 * with TRUST_PROXY=loopback, see run.ts), which also makes the measured requests
 * those a real deployment serves (rolling cookie re-sent with each answer).
 */
export const BEHIND_TLS_PROXY: Readonly<Record<string, string>> = { "x-forwarded-proto": "https" };

const PASSWORD = "bench password, not a secret";

export interface SignedIn {
  user: UserDto;
  /** `cookie` header value carrying the session. */
  cookie: string;
}

interface CallOptions {
  body?: unknown;
  cookie?: string;
  expect: number;
}

/** One API call; throws SetupError unless the status is the expected one. */
export async function call<T>(baseUrl: string, method: string, path: string, options: CallOptions): Promise<{ body: T; cookie: string }> {
  const response = await fetch(new URL(path, baseUrl), {
    method,
    headers: {
      ...BEHIND_TLS_PROXY,
      // No keep-alive socket left behind to delay the product's graceful shutdown.
      connection: "close",
      ...(options.body === undefined ? {} : { "content-type": "application/json" }),
      ...(options.cookie === undefined ? {} : { cookie: options.cookie }),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    redirect: "manual",
  });
  const text = await response.text();
  if (response.status !== options.expect) {
    throw new SetupError(`${method} ${path} answered ${response.status} (expected ${options.expect}): ${text.slice(0, 500)}`);
  }
  const cookie = response.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
  return { body: (text === "" ? undefined : JSON.parse(text)) as T, cookie };
}

/** A new account, signed in (POST /api/auth/register). */
export async function register(baseUrl: string, name: string): Promise<SignedIn> {
  const email = `bench-${randomUUID()}@example.test`;
  const { body, cookie } = await call<{ user: UserDto }>(baseUrl, "POST", "/api/auth/register", {
    body: { email, password: PASSWORD, name },
    expect: 201,
  });
  if (cookie === "") throw new SetupError("POST /api/auth/register set no session cookie (Secure cookie without TRUST_PROXY?)");
  return { user: body.user, cookie };
}

export async function createCommunity(baseUrl: string, owner: SignedIn, joinPolicy: "open" | "invite"): Promise<CommunityDto> {
  const slug = `bench-${randomBytes(6).toString("hex")}`;
  const { body } = await call<{ community: CommunityDto }>(baseUrl, "POST", "/api/communities", {
    body: { name: `Bench club ${slug}`, slug, description: "A community created by npm run bench.", joinPolicy },
    cookie: owner.cookie,
    expect: 201,
  });
  return body.community;
}

export async function join(baseUrl: string, member: SignedIn, slug: string): Promise<void> {
  await call(baseUrl, "POST", `/api/communities/${slug}/join`, { cookie: member.cookie, expect: 201 });
}

export async function createEvent(baseUrl: string, admin: SignedIn, slug: string): Promise<EventDto> {
  const { body } = await call<{ event: EventDto }>(baseUrl, "POST", `/api/communities/${slug}/events`, {
    body: { title: "Bench general assembly", startsAt: new Date(Date.now() + 86_400_000).toISOString(), location: "Main hall" },
    cookie: admin.cookie,
    expect: 201,
  });
  return body.event;
}

export async function checkinStats(baseUrl: string, staff: SignedIn, eventId: string): Promise<CheckinStats> {
  const { body } = await call<CheckinStats>(baseUrl, "GET", `/api/events/${eventId}/checkins/stats`, { cookie: staff.cookie, expect: 200 });
  return body;
}

/** `work` over `items`, at most `concurrency` at a time, results in order. */
export async function mapLimit<T, R>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  return results;
}

export interface SeedTickets {
  databaseUrl: string;
  communityId: string;
  eventId: string;
  count: number;
  ticketSigningKey: string;
}

export interface SeededTicket {
  ticketId: string;
  /** The QR code's content, signed with the run's TICKET_SIGNING_KEY. */
  code: string;
}

/** Moves a community onto a plan, as its subscription's webhook would: a door of thousands is not a free community's. */
export async function putOnPlan(databaseUrl: string, communityId: string, plan: "free" | "pro" | "premium"): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query("update communities set plan = $2 where id = $1", [communityId, plan]);
  } finally {
    await client.end();
  }
}

/**
 * `count` new users, each a member of the community holding a valid ticket to
 * the event, in one transaction with one statement per table; the counters the
 * product keeps (communities.member_count, events.tickets_issued) move with
 * them. Returns the tickets with their codes, signed as the product signs them.
 */
export async function seedTickets(seed: SeedTickets): Promise<SeededTicket[]> {
  const tag = `bench-${randomBytes(6).toString("hex")}-`;
  const client = new pg.Client({ connectionString: seed.databaseUrl });
  await client.connect();
  try {
    await client.query("begin");
    const users = await client.query(
      `insert into users (email, name, password_hash)
       select $1::text || i || '@example.test', 'Bench member ' || i, 'bench: no password'
       from generate_series(1, $2::int) as i`,
      [tag, seed.count],
    );
    const members = await client.query(
      `insert into memberships (community_id, user_id, role, member_name)
       select $1::uuid, id, 'member', name from users where email like $2::text || '%'`,
      [seed.communityId, tag],
    );
    const tickets = await client.query<{ id: string }>(
      `insert into tickets (event_id, user_id)
       select $1::uuid, id from users where email like $2::text || '%'
       returning id`,
      [seed.eventId, tag],
    );
    const event = await client.query("update events set tickets_issued = tickets_issued + $2 where id = $1", [seed.eventId, seed.count]);
    const community = await client.query("update communities set member_count = member_count + $2 where id = $1", [
      seed.communityId,
      seed.count,
    ]);
    const counts = [users.rowCount, members.rowCount, tickets.rowCount, event.rowCount, community.rowCount];
    if (counts.join() !== [seed.count, seed.count, seed.count, 1, 1].join()) {
      throw new SetupError(
        `seeding ${seed.count} tickets inserted/updated ${counts.join("/")} rows (users/memberships/tickets/event/community)`,
      );
    }
    await client.query("commit");
    // Statistics and visibility map up to date now, rather than autovacuum catching up mid-run.
    await client.query("vacuum (analyze) users, memberships, tickets");
    const codes = new TicketCodes([seed.ticketSigningKey]);
    return tickets.rows.map((row) => ({ ticketId: row.id, code: codes.sign({ ticketId: row.id, eventId: seed.eventId }) }));
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}

/** Runs `make` once per key (the product's URL), so later rounds reuse what the first one set up. */
export function once<T>(make: (key: string) => Promise<T>): (key: string) => Promise<T> {
  const made = new Map<string, Promise<T>>();
  return (key) => {
    let value = made.get(key);
    if (value === undefined) {
      value = make(key);
      made.set(key, value);
      // A failed setup is not cached: the next round gets its own error, not a stale one.
      value.catch(() => made.delete(key));
    }
    return value;
  };
}
