import { randomUUID } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { hash } from "@node-rs/argon2";
import type { Role } from "../../shared/api/communities.ts";
import type { CommunityDto, EventDto, TicketDto, UserDto } from "../../shared/api/index.ts";
import { communities, events, memberships, payments, tickets, users } from "../../shared/schema/index.ts";
import { presentTicket } from "../modules/tickets/index.ts";
import { HttpClient, type TestServer } from "./harness.ts";

/**
 * Test data. Users are rows inserted in bulk, all sharing one argon2id hash of
 * TEST_PASSWORD made with the smallest cost argon2 allows: it is computed once,
 * and each user then signs in through the real login endpoint in a fraction of
 * a millisecond of hashing (the cost travels inside the hash). The accounts
 * tests register through the API where registration itself is under test.
 */
export const TEST_PASSWORD = "correct horse battery";

let cheapHash: Promise<string> | undefined;
const testPasswordHash = () => (cheapHash ??= hash(TEST_PASSWORD, { memoryCost: 8, timeCost: 1, parallelism: 1 }));

export interface TestUser extends UserDto {
  /** Signed in as this user. */
  client: HttpClient;
}

export const uniqueEmail = (name = "user") => `${name.toLowerCase().replace(/\W+/g, "-")}-${randomUUID()}@example.test`;

/** Users with these names (password TEST_PASSWORD), inserted in one statement, not signed in. */
export async function insertUsers(server: TestServer, names: string[]): Promise<UserDto[]> {
  const passwordHash = await testPasswordHash();
  return server.container.db
    .insert(users)
    .values(names.map((name) => ({ name, email: uniqueEmail(name), passwordHash })))
    .returning({ id: users.id, email: users.email, name: users.name });
}

/** Users with these names, each signed in with a client of its own (or the one given). */
export async function signedInUsers(server: TestServer, names: string[], clients?: (url: string) => HttpClient): Promise<TestUser[]> {
  const rows = await insertUsers(server, names);
  return Promise.all(rows.map((row) => signIn(clients?.(server.url) ?? new HttpClient(server.url), row)));
}

export async function signedInUser(server: TestServer, name = "Member", client?: HttpClient): Promise<TestUser> {
  const [user] = await signedInUsers(server, [name], client && (() => client));
  if (!user) throw new Error("no user created");
  return user;
}

async function signIn(client: HttpClient, user: UserDto): Promise<TestUser> {
  const response = await client.post("/api/auth/login", { email: user.email, password: TEST_PASSWORD });
  if (response.status !== 200) throw new Error(`login: ${response.status} ${await response.text()}`);
  return { ...user, client };
}

export interface TestCommunity {
  id: string;
  slug: string;
}

/** A community created through the API by its owner. */
export async function createCommunity(owner: HttpClient, body: Record<string, unknown> = {}): Promise<CommunityDto> {
  const response = await owner.post("/api/communities", { name: `Club ${randomUUID().slice(0, 8)}`, ...body });
  if (response.status !== 201) throw new Error(`create community: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { community: CommunityDto }).community;
}

/** Adds a registered user to a community with a role, through the API as its owner. */
export async function addMember(owner: HttpClient, slug: string, member: UserDto, role = "member"): Promise<void> {
  const response = await owner.post(`/api/communities/${slug}/members`, { email: member.email, role });
  if (response.status !== 201) throw new Error(`add member: ${response.status} ${await response.text()}`);
}

/**
 * A community with the given members, inserted in one transaction (member_count included). On the premium plan
 * unless told otherwise, so that no plan limit gets in the way of a test about something else (plans.test.ts tests them).
 */
export async function insertCommunity(
  server: TestServer,
  members: Array<{ user: UserDto; role: Role }>,
  plan: "free" | "pro" | "premium" = "premium",
): Promise<TestCommunity> {
  const slug = `c-${randomUUID().slice(0, 18)}`;
  return server.container.db.transaction(async (tx) => {
    const [community] = await tx
      .insert(communities)
      .values({ slug, name: `Community ${slug}`, memberCount: members.length, plan })
      .returning({ id: communities.id, slug: communities.slug });
    if (!community) throw new Error("no community inserted");
    if (members.length > 0) {
      await tx
        .insert(memberships)
        .values(members.map(({ user, role }) => ({ communityId: community.id, userId: user.id, role, memberName: user.name })));
    }
    return community;
  });
}

/** Moves a community onto a plan directly, as a subscription's webhook would. */
export async function putOnPlan(server: TestServer, community: TestCommunity, plan: "free" | "pro" | "premium"): Promise<void> {
  await server.container.db.update(communities).set({ plan }).where(eq(communities.id, community.id));
}

/** More members in an existing community, member_count kept in the same transaction. */
export async function addMembers(server: TestServer, community: TestCommunity, people: UserDto[], role: Role = "member"): Promise<void> {
  await server.container.db.transaction(async (tx) => {
    await tx
      .insert(memberships)
      .values(people.map((user) => ({ communityId: community.id, userId: user.id, role, memberName: user.name })));
    await tx
      .update(communities)
      .set({ memberCount: sql`${communities.memberCount} + ${people.length}` })
      .where(eq(communities.id, community.id));
  });
}

/** An event created through the API by an admin of the community. */
export async function createEvent(
  admin: TestUser,
  community: TestCommunity,
  fields: { title?: string; startsAt?: string; endsAt?: string; capacity?: number } = {},
): Promise<EventDto> {
  const response = await admin.client.post(`/api/communities/${community.slug}/events`, {
    title: fields.title ?? "Annual meeting",
    startsAt: fields.startsAt ?? new Date(Date.now() + 86_400_000).toISOString(),
    ...(fields.endsAt === undefined ? {} : { endsAt: fields.endsAt }),
    ...(fields.capacity === undefined ? {} : { capacity: fields.capacity }),
  });
  if (response.status !== 201) throw new Error(`create event answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { event: EventDto }).event;
}

export async function takeTicket(user: TestUser, eventId: string): Promise<TicketDto> {
  const response = await user.client.post(`/api/events/${eventId}/tickets`);
  if (response.status !== 201) throw new Error(`take ticket answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { ticket: TicketDto }).ticket;
}

/** Tickets for many holders at once, inserted in one statement (the event's seat count kept in the same transaction). */
export async function issueTickets(server: TestServer, eventId: string, holders: UserDto[]): Promise<TicketDto[]> {
  const rows = await server.container.db.transaction(async (tx) => {
    const inserted = await tx
      .insert(tickets)
      .values(holders.map((holder) => ({ eventId, userId: holder.id })))
      .returning();
    await tx
      .update(events)
      .set({ ticketsIssued: sql`${events.ticketsIssued} + ${inserted.length}` })
      .where(eq(events.id, eventId));
    return inserted;
  });
  const byHolder = new Map(rows.map((row) => [row.userId, presentTicket(row, server.container.ticketCodes)]));
  return holders.map((holder) => byHolder.get(holder.id) as TicketDto);
}

/** The usual cast: an admin, a staff member and a member of one community, and an outsider who belongs elsewhere. */
export interface CommunityCast {
  admin: TestUser;
  staff: TestUser;
  member: TestUser;
  outsider: TestUser;
  community: TestCommunity;
}

export async function communityWithCast(server: TestServer): Promise<CommunityCast> {
  const [admin, staff, member, outsider] = (await signedInUsers(server, ["Ada Admin", "Sam Staff", "Mia Member", "Olga Outsider"])) as [
    TestUser,
    TestUser,
    TestUser,
    TestUser,
  ];
  const community = await insertCommunity(server, [
    { user: admin, role: "admin" },
    { user: staff, role: "staff" },
    { user: member, role: "member" },
  ]);
  return { admin, staff, member, outsider, community };
}

/** "Guest 1", "Guest 2", ...: names for users made in bulk. */
export const names = (prefix: string, count: number) => Array.from({ length: count }, (_, index) => `${prefix} ${index + 1}`);

/** A member's dues payment as a paid Checkout session records it (no Stripe involved): 12 € unless told otherwise. */
export async function insertDuesPayment(
  server: TestServer,
  payment: { communityId: string; userId: string; amountCents?: number; paidUntil?: Date },
): Promise<void> {
  await server.container.db.insert(payments).values({
    stripeCheckoutSessionId: `cs_test_${randomUUID()}`,
    amountCents: 1200,
    currency: "eur",
    ...payment,
  });
}
