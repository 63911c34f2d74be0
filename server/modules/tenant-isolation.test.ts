import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CommunityDto, EventDto, TicketDto } from "../../shared/api/index.ts";
import { HttpClient, startTestServer, type TestServer } from "../test/harness.ts";
import { addMember, createCommunity, signedInUser, type SignedInUser } from "../test/factories.ts";

/**
 * Every community-scoped route, called by four callers: anonymous (401), a
 * member of another community (404: the same answer as for nothing at all,
 * never the data), a member of the community, and one of its admins. Routes
 * that change something get a fresh target for each caller.
 */
type Caller = "anonymous" | "outsider" | "member" | "admin";
const CALLERS: Caller[] = ["anonymous", "outsider", "member", "admin"];

interface RouteCase {
  name: string;
  method: "GET" | "POST" | "PATCH" | "DELETE";
  /** Builds the path (and body) for one caller, creating whatever that call consumes. */
  prepare(): Promise<{ path: string; body?: unknown }>;
  expected: Record<Caller, number>;
}

describe("tenant isolation", () => {
  let server: TestServer;
  let owner: SignedInUser;
  let admin: SignedInUser;
  let member: SignedInUser;
  let outsider: SignedInUser;
  let community: CommunityDto;
  let event: EventDto;
  let othersTicket: TicketDto;

  beforeAll(async () => {
    server = await startTestServer();
    [owner, admin, member, outsider] = await Promise.all([
      signedInUser(server.url, "Owner"),
      signedInUser(server.url, "Admin"),
      signedInUser(server.url, "Member"),
      signedInUser(server.url, "Outsider"),
    ]);
    community = await createCommunity(owner.client);
    await addMember(owner.client, community.slug, admin.user, "admin");
    await addMember(owner.client, community.slug, member.user, "member");
    await createCommunity(outsider.client);
    event = await json<{ event: EventDto }>(
      await admin.client.post(`/api/communities/${community.slug}/events`, {
        title: "Gala",
        startsAt: new Date(Date.now() + 86_400_000).toISOString(),
      }),
    ).then((body) => body.event);
    othersTicket = (await newMemberWithTicket()).ticket;
  });
  afterAll(() => server.close());

  async function json<T>(response: Response): Promise<T> {
    if (response.status >= 300) throw new Error(`set-up request failed: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  }

  async function newMember(): Promise<SignedInUser> {
    const person = await signedInUser(server.url, "Target");
    await addMember(owner.client, community.slug, person.user);
    return person;
  }

  async function newMemberWithTicket(): Promise<{ person: SignedInUser; ticket: TicketDto }> {
    const person = await newMember();
    const { ticket } = await json<{ ticket: TicketDto }>(await person.client.post(`/api/events/${event.id}/tickets`));
    return { person, ticket };
  }

  const routes = (): RouteCase[] => [
    {
      name: "list members",
      method: "GET",
      prepare: async () => ({ path: `/api/communities/${community.slug}/members` }),
      expected: { anonymous: 401, outsider: 404, member: 200, admin: 200 },
    },
    {
      name: "add a member",
      method: "POST",
      prepare: async () => ({
        path: `/api/communities/${community.slug}/members`,
        body: { email: (await signedInUser(server.url)).user.email },
      }),
      expected: { anonymous: 401, outsider: 404, member: 403, admin: 201 },
    },
    {
      name: "update the community",
      method: "PATCH",
      prepare: async () => ({ path: `/api/communities/${community.slug}`, body: { description: "changed" } }),
      expected: { anonymous: 401, outsider: 404, member: 403, admin: 200 },
    },
    {
      name: "change a role",
      method: "PATCH",
      prepare: async () => ({ path: `/api/communities/${community.slug}/members/${(await newMember()).user.id}`, body: { role: "staff" } }),
      expected: { anonymous: 401, outsider: 404, member: 403, admin: 200 },
    },
    {
      name: "remove a member",
      method: "DELETE",
      prepare: async () => ({ path: `/api/communities/${community.slug}/members/${(await newMember()).user.id}` }),
      expected: { anonymous: 401, outsider: 404, member: 403, admin: 204 },
    },
    {
      name: "read news",
      method: "GET",
      prepare: async () => ({ path: `/api/communities/${community.slug}/news` }),
      expected: { anonymous: 401, outsider: 404, member: 200, admin: 200 },
    },
    {
      name: "publish news",
      method: "POST",
      prepare: async () => ({ path: `/api/communities/${community.slug}/news`, body: { title: "Hello", body: "World" } }),
      expected: { anonymous: 401, outsider: 404, member: 403, admin: 201 },
    },
    {
      name: "list events",
      method: "GET",
      prepare: async () => ({ path: `/api/communities/${community.slug}/events` }),
      expected: { anonymous: 401, outsider: 404, member: 200, admin: 200 },
    },
    {
      name: "create an event",
      method: "POST",
      prepare: async () => ({
        path: `/api/communities/${community.slug}/events`,
        body: { title: "Picnic", startsAt: new Date(Date.now() + 172_800_000).toISOString() },
      }),
      expected: { anonymous: 401, outsider: 404, member: 403, admin: 201 },
    },
    {
      name: "read an event",
      method: "GET",
      prepare: async () => ({ path: `/api/events/${event.id}` }),
      expected: { anonymous: 401, outsider: 404, member: 200, admin: 200 },
    },
    {
      name: "take a ticket",
      method: "POST",
      prepare: async () => ({
        path: `/api/events/${
          (
            await json<{ event: EventDto }>(
              await admin.client.post(`/api/communities/${community.slug}/events`, { title: "Fresh", startsAt: new Date().toISOString() }),
            )
          ).event.id
        }/tickets`,
      }),
      expected: { anonymous: 401, outsider: 404, member: 201, admin: 201 },
    },
    {
      name: "read someone else's ticket",
      method: "GET",
      prepare: async () => ({ path: `/api/tickets/${othersTicket.id}` }),
      expected: { anonymous: 401, outsider: 404, member: 404, admin: 200 },
    },
    {
      name: "someone else's ticket QR code",
      method: "GET",
      prepare: async () => ({ path: `/api/tickets/${othersTicket.id}/qr.svg` }),
      expected: { anonymous: 401, outsider: 404, member: 404, admin: 404 },
    },
    {
      name: "check a ticket in",
      method: "POST",
      prepare: async () => ({ path: `/api/events/${event.id}/checkins`, body: { code: (await newMemberWithTicket()).ticket.code } }),
      expected: { anonymous: 401, outsider: 404, member: 403, admin: 201 },
    },
    {
      name: "check-in stats",
      method: "GET",
      prepare: async () => ({ path: `/api/events/${event.id}/checkins/stats` }),
      expected: { anonymous: 401, outsider: 404, member: 403, admin: 200 },
    },
  ];

  it("gives each caller the status they must get on every community-scoped route, and outsiders no data", async () => {
    const clients: Record<Caller, HttpClient> = {
      anonymous: new HttpClient(server.url),
      outsider: outsider.client,
      member: member.client,
      admin: admin.client,
    };
    const answers: string[] = [];
    const wanted: string[] = [];
    for (const route of routes()) {
      for (const caller of CALLERS) {
        const { path, body } = await route.prepare();
        const response = await clients[caller].request(route.method, path, body);
        const text = await response.text();
        answers.push(`${route.name} as ${caller}: ${response.status}`);
        wanted.push(`${route.name} as ${caller}: ${route.expected[caller]}`);
        if (caller === "outsider" || caller === "anonymous") {
          // What an outsider gets back is the error shape only: no id, name or field of the community's data.
          expect(Object.keys(JSON.parse(text) as object)).toEqual(["error"]);
          expect(text).not.toContain(community.id);
        }
      }
    }
    expect(answers).toEqual(wanted);
  });

  it("keeps the public profile public: the one route outsiders may read", async () => {
    for (const client of [new HttpClient(server.url), outsider.client]) {
      expect((await client.get(`/api/communities/${community.slug}`)).status).toBe(200);
    }
  });
});
