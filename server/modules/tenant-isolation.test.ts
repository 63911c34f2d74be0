import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CommunityDto, EventDto, TicketDto } from "../../shared/api/index.ts";
import { routeTable } from "../http/route-table.ts";
import { HttpClient, startTestServer, type TestServer } from "../test/harness.ts";
import { addMember, createCommunity, putOnPlan, signedInUser, type TestUser } from "../test/factories.ts";

/**
 * Every community-scoped route of the route table, called by four callers:
 * anonymous (401), a member of another community (404: the same answer as for
 * nothing at all, never the data), a member of the community, and one of its
 * admins. Routes that change something get a fresh target for each caller.
 * Every other route is listed with the reason it is not community-scoped: a
 * route in neither list fails the test.
 */
type Caller = "anonymous" | "outsider" | "member" | "admin";
const CALLERS: Caller[] = ["anonymous", "outsider", "member", "admin"];

interface RouteCase {
  /** As the route table names it: "METHOD /api/path/:param". */
  route: string;
  /** Builds the path (and body) for one caller, creating whatever that call consumes. */
  prepare(): Promise<{ path: string; body?: unknown }>;
  expected: Record<Caller, number>;
}

/** Routes that belong to no community, or that outsiders may call by design, and why. */
const NOT_COMMUNITY_SCOPED: Record<string, string> = {
  "GET /api/health/live": "probe",
  "GET /api/health/ready": "probe",
  "GET /api/health/": "probe; details need the operators' token (health.test.ts)",
  "POST /api/auth/register": "accounts",
  "POST /api/auth/login": "accounts",
  "POST /api/auth/logout": "accounts",
  "GET /api/auth/me": "accounts",
  "POST /api/auth/password-reset": "accounts",
  "POST /api/auth/password-reset/confirm": "accounts",
  "POST /api/auth/password": "accounts",
  "POST /api/communities": "creates a community of one's own",
  "GET /api/communities": "the caller's own communities only (communities.test.ts)",
  "GET /api/communities/:slug": "the public profile (below)",
  "POST /api/communities/:slug/join": "what outsiders do to become members, open communities only (communities.test.ts)",
  "GET /api/tickets": "the caller's own tickets, in communities they belong to (tickets.test.ts)",
  "GET /api/plans": "public: the plans and their prices (plans.test.ts)",
  "POST /api/webhooks/stripe": "Stripe's deliveries, authenticated by their signature (payments.test.ts)",
  "POST /api/webhooks/stripe/connect": "Stripe's deliveries, authenticated by their signature (payments.test.ts)",
  "GET /api/ops/webhooks": "operators' endpoint, behind OPS_TOKEN",
  "GET /api/ops/webhooks/stats": "operators' endpoint, behind OPS_TOKEN",
  "POST /api/ops/webhooks/:id/replay": "operators' endpoint, behind OPS_TOKEN",
  "GET /api/ops/emails": "operators only, by the OPS_TOKEN bearer (ops-token.test.ts; emails.test.ts)",
  "GET /api/ops/emails/templates": "operators only: template names",
  "GET /api/ops/emails/templates/:name/preview": "operators only: a template rendered with its sample payload",
  "GET /api/metrics/": "operators only, by the OPS_TOKEN bearer: the instance's metrics (metrics.test.ts)",
  "GET /api/ops/status": "operators only: the instance's alert signals",
  "POST /api/webhooks/sendgrid/": "SendGrid's Event Webhook, authenticated by its signature (emails.test.ts)",
};

describe("tenant isolation", () => {
  let server: TestServer;
  let owner: TestUser;
  let admin: TestUser;
  let member: TestUser;
  let outsider: TestUser;
  let community: CommunityDto;
  let event: EventDto;
  let othersTicket: TicketDto;

  beforeAll(async () => {
    server = await startTestServer();
    [owner, admin, member, outsider] = await Promise.all([
      signedInUser(server, "Owner"),
      signedInUser(server, "Admin"),
      signedInUser(server, "Member"),
      signedInUser(server, "Outsider"),
    ]);
    community = await createCommunity(owner.client);
    // Every caller's case creates members and events: no plan limit may answer before the access check is shown.
    await putOnPlan(server, community, "premium");
    await addMember(owner.client, community.slug, admin, "admin");
    await addMember(owner.client, community.slug, member, "member");
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

  async function newMember(): Promise<TestUser> {
    const person = await signedInUser(server, "Target");
    await addMember(owner.client, community.slug, person);
    return person;
  }

  async function newMemberWithTicket(): Promise<{ person: TestUser; ticket: TicketDto }> {
    const person = await newMember();
    const { ticket } = await json<{ ticket: TicketDto }>(await person.client.post(`/api/events/${event.id}/tickets`));
    return { person, ticket };
  }

  const routes = (): RouteCase[] => [
    {
      route: "GET /api/communities/:slug/members",
      prepare: async () => ({ path: `/api/communities/${community.slug}/members` }),
      expected: { anonymous: 401, outsider: 404, member: 200, admin: 200 },
    },
    {
      route: "POST /api/communities/:slug/members",
      prepare: async () => ({
        path: `/api/communities/${community.slug}/members`,
        body: { email: (await signedInUser(server)).email },
      }),
      expected: { anonymous: 401, outsider: 404, member: 403, admin: 201 },
    },
    {
      route: "PATCH /api/communities/:slug",
      prepare: async () => ({ path: `/api/communities/${community.slug}`, body: { description: "changed" } }),
      expected: { anonymous: 401, outsider: 404, member: 403, admin: 200 },
    },
    {
      route: "PATCH /api/communities/:slug/members/:userId",
      prepare: async () => ({ path: `/api/communities/${community.slug}/members/${(await newMember()).id}`, body: { role: "staff" } }),
      expected: { anonymous: 401, outsider: 404, member: 403, admin: 200 },
    },
    {
      route: "DELETE /api/communities/:slug/members/:userId",
      prepare: async () => ({ path: `/api/communities/${community.slug}/members/${(await newMember()).id}` }),
      expected: { anonymous: 401, outsider: 404, member: 403, admin: 204 },
    },
    {
      route: "GET /api/communities/:slug/news",
      prepare: async () => ({ path: `/api/communities/${community.slug}/news` }),
      expected: { anonymous: 401, outsider: 404, member: 200, admin: 200 },
    },
    {
      route: "POST /api/communities/:slug/news",
      prepare: async () => ({ path: `/api/communities/${community.slug}/news`, body: { title: "Hello", body: "World" } }),
      expected: { anonymous: 401, outsider: 404, member: 403, admin: 201 },
    },
    {
      route: "GET /api/communities/:slug/events",
      prepare: async () => ({ path: `/api/communities/${community.slug}/events` }),
      expected: { anonymous: 401, outsider: 404, member: 200, admin: 200 },
    },
    {
      route: "POST /api/communities/:slug/events",
      prepare: async () => ({
        path: `/api/communities/${community.slug}/events`,
        body: { title: "Picnic", startsAt: new Date(Date.now() + 172_800_000).toISOString() },
      }),
      expected: { anonymous: 401, outsider: 404, member: 403, admin: 201 },
    },
    {
      route: "GET /api/events/:eventId",
      prepare: async () => ({ path: `/api/events/${event.id}` }),
      expected: { anonymous: 401, outsider: 404, member: 200, admin: 200 },
    },
    {
      route: "POST /api/events/:eventId/tickets",
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
      route: "POST /api/communities/:slug/subscription/checkout",
      prepare: async () => ({ path: `/api/communities/${community.slug}/subscription/checkout`, body: { planId: "pro" } }),
      // The owner's alone: admins are refused too.
      expected: { anonymous: 401, outsider: 404, member: 403, admin: 403 },
    },
    {
      route: "POST /api/communities/:slug/subscription/portal",
      prepare: async () => ({ path: `/api/communities/${community.slug}/subscription/portal` }),
      expected: { anonymous: 401, outsider: 404, member: 403, admin: 403 },
    },
    {
      route: "POST /api/communities/:slug/payouts/onboarding",
      prepare: async () => ({ path: `/api/communities/${community.slug}/payouts/onboarding` }),
      expected: { anonymous: 401, outsider: 404, member: 403, admin: 403 },
    },
    {
      route: "GET /api/communities/:slug/payouts/onboarding/refresh",
      prepare: async () => ({ path: `/api/communities/${community.slug}/payouts/onboarding/refresh` }),
      expected: { anonymous: 401, outsider: 404, member: 403, admin: 403 },
    },
    {
      route: "GET /api/communities/:slug/payouts",
      prepare: async () => ({ path: `/api/communities/${community.slug}/payouts` }),
      expected: { anonymous: 401, outsider: 404, member: 403, admin: 200 },
    },
    {
      route: "GET /api/communities/:slug/dues",
      prepare: async () => ({ path: `/api/communities/${community.slug}/dues` }),
      expected: { anonymous: 401, outsider: 404, member: 200, admin: 200 },
    },
    {
      route: "PUT /api/communities/:slug/dues",
      prepare: async () => ({
        path: `/api/communities/${community.slug}/dues`,
        body: { amountCents: 1200, currency: "eur", periodMonths: 12 },
      }),
      expected: { anonymous: 401, outsider: 404, member: 403, admin: 200 },
    },
    {
      route: "POST /api/communities/:slug/dues/checkout",
      prepare: async () => ({ path: `/api/communities/${community.slug}/dues/checkout` }),
      // Past the access check, a server without Stripe says payments are not configured.
      expected: { anonymous: 401, outsider: 404, member: 503, admin: 503 },
    },
    {
      route: "GET /api/communities/:slug/dues/payments",
      prepare: async () => ({ path: `/api/communities/${community.slug}/dues/payments` }),
      expected: { anonymous: 401, outsider: 404, member: 200, admin: 200 },
    },
    {
      route: "GET /api/communities/:slug/payments",
      prepare: async () => ({ path: `/api/communities/${community.slug}/payments` }),
      expected: { anonymous: 401, outsider: 404, member: 403, admin: 200 },
    },
    {
      route: "GET /api/tickets/:ticketId",
      prepare: async () => ({ path: `/api/tickets/${othersTicket.id}` }),
      expected: { anonymous: 401, outsider: 404, member: 404, admin: 200 },
    },
    {
      route: "GET /api/tickets/:ticketId/qr.svg",
      prepare: async () => ({ path: `/api/tickets/${othersTicket.id}/qr.svg` }),
      expected: { anonymous: 401, outsider: 404, member: 404, admin: 404 },
    },
    {
      route: "POST /api/events/:eventId/checkins",
      prepare: async () => ({ path: `/api/events/${event.id}/checkins`, body: { code: (await newMemberWithTicket()).ticket.code } }),
      expected: { anonymous: 401, outsider: 404, member: 403, admin: 201 },
    },
    {
      route: "GET /api/events/:eventId/door-code",
      prepare: async () => ({ path: `/api/events/${event.id}/door-code` }),
      expected: { anonymous: 401, outsider: 404, member: 403, admin: 200 },
    },
    {
      route: "POST /api/events/:eventId/self-checkin",
      prepare: async () => ({
        path: `/api/events/${event.id}/self-checkin`,
        body: { doorCode: (await json<{ code: string }>(await admin.client.get(`/api/events/${event.id}/door-code`))).code },
      }),
      // Past the access check, neither holds a ticket to this event.
      expected: { anonymous: 401, outsider: 404, member: 409, admin: 409 },
    },
    {
      route: "GET /api/communities/:slug/membership",
      prepare: async () => ({ path: `/api/communities/${community.slug}/membership` }),
      expected: { anonymous: 401, outsider: 404, member: 200, admin: 200 },
    },
    {
      route: "GET /api/events/:eventId/checkins/stats",
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
        const response = await clients[caller].request(route.route.split(" ")[0] as string, path, body);
        const text = await response.text();
        answers.push(`${route.route} as ${caller}: ${response.status}`);
        wanted.push(`${route.route} as ${caller}: ${route.expected[caller]}`);
        if (caller === "outsider" || caller === "anonymous") {
          // What an outsider gets back is the error shape only: no id, name or field of the community's data.
          expect(Object.keys(JSON.parse(text) as object)).toEqual(["error"]);
          expect(text).not.toContain(community.id);
        }
      }
    }
    expect(answers).toEqual(wanted);
  });

  it("covers every route of the application: community-scoped here, or not scoped for a stated reason", () => {
    const covered = new Set([...routes().map((route) => route.route), ...Object.keys(NOT_COMMUNITY_SCOPED)]);
    const table = routeTable(server.app).map((route) => `${route.method} ${route.path}`);
    expect(table.filter((route) => !covered.has(route))).toEqual([]);
    expect([...covered].filter((route) => !table.includes(route))).toEqual([]);
  });

  it("keeps the public profile public: the one route outsiders may read", async () => {
    for (const client of [new HttpClient(server.url), outsider.client]) {
      expect((await client.get(`/api/communities/${community.slug}`)).status).toBe(200);
    }
  });
});
