import { randomUUID } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import type { Role } from "../../shared/api/communities.ts";
import type { EventDto, TicketDto } from "../../shared/api/events.ts";
import { communities, memberships } from "../../shared/schema/index.ts";
import type { HttpClient, TestServer } from "./harness.ts";
import { signedInUser } from "./factories.ts";

/**
 * Test data in bulk: users come through the real registration endpoint (so they
 * hold a session); communities and memberships are inserted directly, which
 * tests that need dozens of members at once can afford.
 */
export interface TestUser {
  id: string;
  name: string;
  email: string;
  client: HttpClient;
}

export async function registerUser(server: TestServer, name = "Member"): Promise<TestUser> {
  const { user, client } = await signedInUser(server.url, name);
  return { ...user, client };
}

export async function registerUsers(server: TestServer, count: number, prefix = "Member"): Promise<TestUser[]> {
  return Promise.all(Array.from({ length: count }, (_, index) => registerUser(server, `${prefix} ${index + 1}`)));
}

export interface TestCommunity {
  id: string;
  slug: string;
}

/** A community with the given members, in one transaction (member_count included). */
export async function insertCommunity(server: TestServer, members: Array<{ user: TestUser; role: Role }>): Promise<TestCommunity> {
  const slug = `c-${randomUUID().slice(0, 18)}`;
  return server.container.db.transaction(async (tx) => {
    const [community] = await tx
      .insert(communities)
      .values({ slug, name: `Community ${slug}`, memberCount: members.length })
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

/** More members in an existing community, member_count kept in the same transaction. */
export async function addMembers(server: TestServer, community: TestCommunity, users: TestUser[], role: Role = "member"): Promise<void> {
  await server.container.db.transaction(async (tx) => {
    await tx.insert(memberships).values(users.map((user) => ({ communityId: community.id, userId: user.id, role, memberName: user.name })));
    await tx
      .update(communities)
      .set({ memberCount: sql`${communities.memberCount} + ${users.length}` })
      .where(eq(communities.id, community.id));
  });
}

/** An event created through the API by an admin of the community. */
export async function createEvent(
  admin: TestUser,
  community: TestCommunity,
  fields: { title?: string; startsAt?: string; capacity?: number } = {},
): Promise<EventDto> {
  const response = await admin.client.post(`/api/communities/${community.slug}/events`, {
    title: fields.title ?? "Annual meeting",
    startsAt: fields.startsAt ?? new Date(Date.now() + 86_400_000).toISOString(),
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

/** The usual cast: an admin, a staff member and a member of one community, and an outsider who belongs elsewhere. */
export interface CommunityCast {
  admin: TestUser;
  staff: TestUser;
  member: TestUser;
  outsider: TestUser;
  community: TestCommunity;
}

export async function communityWithCast(server: TestServer): Promise<CommunityCast> {
  const [admin, staff, member, outsider] = await Promise.all([
    registerUser(server, "Ada Admin"),
    registerUser(server, "Sam Staff"),
    registerUser(server, "Mia Member"),
    registerUser(server, "Olga Outsider"),
  ]);
  const community = await insertCommunity(server, [
    { user: admin, role: "admin" },
    { user: staff, role: "staff" },
    { user: member, role: "member" },
  ]);
  return { admin, staff, member, outsider, community };
}
