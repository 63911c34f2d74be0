import { randomUUID } from "node:crypto";
import { and, count, eq } from "drizzle-orm";
import QRCode from "qrcode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MyTicketDto, TicketDto } from "../../../shared/api/events.ts";
import { events, tickets } from "../../../shared/schema/index.ts";
import { HttpClient, startTestServer, type TestServer } from "../../test/harness.ts";
import {
  addMembers,
  insertCommunity,
  createEvent,
  signedInUser,
  names,
  signedInUsers,
  takeTicket,
  communityWithCast,
  type TestCommunity,
  type TestUser,
} from "../../test/factories.ts";

describe("tickets", () => {
  let server: TestServer;
  let admin: TestUser;
  let staff: TestUser;
  let member: TestUser;
  let otherMember: TestUser;
  let outsider: TestUser;
  let community: TestCommunity;

  beforeAll(async () => {
    server = await startTestServer();
    [admin, staff, member, otherMember, outsider] = await Promise.all([
      signedInUser(server, "Ada Admin"),
      signedInUser(server, "Sam Staff"),
      signedInUser(server, "Mia Member"),
      signedInUser(server, "Otto Other"),
      signedInUser(server, "Olga Outsider"),
    ]);
    community = await insertCommunity(server, [
      { user: admin, role: "admin" },
      { user: staff, role: "staff" },
      { user: member, role: "member" },
      { user: otherMember, role: "member" },
    ]);
  });
  afterAll(() => server.close());

  async function issuedCount(eventId: string) {
    const [event] = await server.container.db.select({ issued: events.ticketsIssued }).from(events).where(eq(events.id, eventId));
    const [rows] = await server.container.db.select({ n: count() }).from(tickets).where(eq(tickets.eventId, eventId));
    return { issued: event?.issued, rows: rows?.n };
  }

  it("gives a member a ticket for themselves: 201 with a signed code", async () => {
    const event = await createEvent(admin, community);
    const response = await member.client.post(`/api/events/${event.id}/tickets`);
    expect(response.status).toBe(201);
    const { ticket } = (await response.json()) as { ticket: TicketDto };
    expect(ticket).toEqual({
      id: expect.any(String),
      eventId: event.id,
      userId: member.id,
      code: expect.stringMatching(/^T1[A-Za-z0-9_-]{64}$/),
      status: "valid",
    });
    expect(server.container.ticketCodes.verify(ticket.code)).toEqual({ valid: true, claims: { ticketId: ticket.id, eventId: event.id } });
    expect(await issuedCount(event.id)).toEqual({ issued: 1, rows: 1 });
  });

  it("answers 409 conflict to a member who already holds a ticket, without counting a seat", async () => {
    const event = await createEvent(admin, community);
    await takeTicket(member, event.id);
    const again = await member.client.post(`/api/events/${event.id}/tickets`);
    expect(again.status).toBe(409);
    const body = (await again.json()) as { error: Record<string, unknown> };
    expect(body.error).toMatchObject({ code: "conflict", message: "you already hold a ticket for this event" });
    expect(body.error.reason).toBeUndefined();
    expect(await issuedCount(event.id)).toEqual({ issued: 1, rows: 1 });
  });

  it("answers 409 with reason sold_out at capacity, leaving no ticket behind", async () => {
    const event = await createEvent(admin, community, { capacity: 1 });
    await takeTicket(member, event.id);
    const late = await otherMember.client.post(`/api/events/${event.id}/tickets`);
    expect(late.status).toBe(409);
    expect(await late.json()).toMatchObject({ error: { code: "conflict", reason: "sold_out", message: "event: sold out" } });
    expect(await issuedCount(event.id)).toEqual({ issued: 1, rows: 1 });
    // The holder asking again is told they hold one, not that it is sold out.
    expect(await (await member.client.post(`/api/events/${event.id}/tickets`)).json()).toMatchObject({ error: { code: "conflict" } });
  });

  it("refuses tickets to outsiders (404), anonymous callers (401) and for unknown events (404)", async () => {
    const event = await createEvent(admin, community);
    const asOutsider = await outsider.client.post(`/api/events/${event.id}/tickets`);
    const anonymous = await new HttpClient(server.url).post(`/api/events/${event.id}/tickets`);
    const unknown = await member.client.post(`/api/events/${randomUUID()}/tickets`);
    const badId = await member.client.post(`/api/events/42/tickets`);
    expect([asOutsider.status, anonymous.status, unknown.status, badId.status]).toEqual([404, 401, 404, 400]);
    expect(await asOutsider.json()).toMatchObject({ error: { code: "not_found", message: "event not found" } });
    expect(await badId.json()).toMatchObject({ error: { message: "eventId: must be an event id" } });
    expect(await issuedCount(event.id)).toEqual({ issued: 0, rows: 0 });
  });

  it("shows a ticket to its holder and to staff and above; 404 to other members and outsiders, 401 anonymous", async () => {
    const event = await createEvent(admin, community);
    const ticket = await takeTicket(member, event.id);
    for (const viewer of [member, staff, admin]) {
      const response = await viewer.client.get(`/api/tickets/${ticket.id}`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ ticket });
    }
    const statuses = await Promise.all([
      otherMember.client.get(`/api/tickets/${ticket.id}`),
      outsider.client.get(`/api/tickets/${ticket.id}`),
      member.client.get(`/api/tickets/${randomUUID()}`),
      new HttpClient(server.url).get(`/api/tickets/${ticket.id}`),
    ]);
    expect(statuses.map((response) => response.status)).toEqual([404, 404, 404, 401]);
    expect(await statuses[0]?.json()).toMatchObject({ error: { code: "not_found", message: "ticket not found" } });
  });

  it("serves the holder, and only the holder, a QR code of the ticket's code as SVG", async () => {
    const event = await createEvent(admin, community);
    const ticket = await takeTicket(member, event.id);
    const response = await member.client.get(`/api/tickets/${ticket.id}/qr.svg`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^image\/svg\+xml/);
    expect(response.headers.get("cache-control")).toBe("private, no-store");
    const svg = await response.text();
    expect(svg).toMatch(/^<svg /);
    expect(svg).toBe(await QRCode.toString(ticket.code, { type: "svg", errorCorrectionLevel: "M", margin: 2 }));
    // A 66-character code fits a version 5 symbol (37 modules) at level M.
    expect(QRCode.create(ticket.code, { errorCorrectionLevel: "M" }).version).toBeLessThanOrEqual(5);

    const others = await Promise.all([
      staff.client.get(`/api/tickets/${ticket.id}/qr.svg`),
      admin.client.get(`/api/tickets/${ticket.id}/qr.svg`),
      outsider.client.get(`/api/tickets/${ticket.id}/qr.svg`),
      new HttpClient(server.url).get(`/api/tickets/${ticket.id}/qr.svg`),
    ]);
    expect(others.map((other) => other.status)).toEqual([404, 404, 404, 401]);
    expect(others[0]?.headers.get("content-type")).toMatch(/^application\/json/);
  });

  it("lists the caller's own tickets in the order of their events", async () => {
    const holder = await signedInUser(server, "Hana Holder");
    await addMembers(server, community, [holder]);
    const later = await createEvent(admin, community, { startsAt: "2032-02-01T10:00:00Z" });
    const sooner = await createEvent(admin, community, { startsAt: "2032-01-01T10:00:00Z" });
    const third = await createEvent(admin, community, { startsAt: "2032-03-01T10:00:00Z" });
    for (const event of [later, sooner, third]) await takeTicket(holder, event.id);

    const first = await holder.client.get("/api/tickets?limit=2");
    expect(first.status).toBe(200);
    const page = (await first.json()) as { items: MyTicketDto[]; nextCursor: string };
    expect(page.items.map((item) => item.event.id)).toEqual([sooner.id, later.id]);
    expect(page.items[0]).toMatchObject({ userId: holder.id, eventId: sooner.id, status: "valid", event: { title: sooner.title } });
    const second = (await (await holder.client.get(`/api/tickets?limit=2&cursor=${page.nextCursor}`)).json()) as {
      items: MyTicketDto[];
      nextCursor: string | null;
    };
    expect(second.items.map((item) => item.event.id)).toEqual([third.id]);
    expect(second.nextCursor).toBeNull();
    expect((await new HttpClient(server.url).get("/api/tickets")).status).toBe(401);
  });

  it("never oversells: 30 members at once for 10 seats get exactly 10 tickets and 20 sold_out", async () => {
    const crowd = await signedInUsers(server, names("Racer", 30));
    await addMembers(server, community, crowd);
    const event = await createEvent(admin, community, { capacity: 10 });
    const responses = await Promise.all(crowd.map((user) => user.client.post(`/api/events/${event.id}/tickets`)));
    const bodies = (await Promise.all(responses.map((response) => response.json()))) as Array<{ error?: { reason?: string } }>;
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(10);
    expect(statuses.filter((status) => status === 409)).toHaveLength(20);
    expect(bodies.filter((body) => body.error?.reason === "sold_out")).toHaveLength(20);
    expect(await issuedCount(event.id)).toEqual({ issued: 10, rows: 10 });
    const event2 = (await (await admin.client.get(`/api/events/${event.id}`)).json()) as { event: { ticketsIssued: number } };
    expect(event2.event.ticketsIssued).toBe(10);
  });

  it("issues one ticket when the same member asks many times at once", async () => {
    const event = await createEvent(admin, community, { capacity: 5 });
    const responses = await Promise.all(Array.from({ length: 8 }, () => otherMember.client.post(`/api/events/${event.id}/tickets`)));
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
    const bodies = (await Promise.all(responses.map((response) => response.json()))) as Array<{ error?: { reason?: string } }>;
    expect(bodies.filter((body) => body.error?.reason === "sold_out")).toHaveLength(0);
    expect(await issuedCount(event.id)).toEqual({ issued: 1, rows: 1 });
  });
});

describe("membership ends, access ends", () => {
  let server: TestServer;
  let admin: TestUser;
  let staff: TestUser;
  let community: TestCommunity;
  const hourS = 3_600_000;
  const at = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString();

  beforeAll(async () => {
    server = await startTestServer();
    ({ admin, staff, community } = await communityWithCast(server));
  });
  afterAll(() => server.close());

  const scan = (eventId: string, code: string) => staff.client.post(`/api/events/${eventId}/checkins`, { code });
  const seats = async (eventId: string) =>
    ((await (await admin.client.get(`/api/events/${eventId}`)).json()) as { event: { ticketsIssued: number } }).event.ticketsIssued;

  /** A member with tickets to an upcoming event, one under way without an end time, and one that has ended. */
  async function memberWithTickets() {
    const holder = await signedInUser(server, "Lea Leaving");
    await addMembers(server, community, [holder]);
    const upcoming = await createEvent(admin, community, { startsAt: at(24 * hourS), capacity: 1 });
    const underWay = await createEvent(admin, community, { startsAt: at(-hourS) });
    const ended = await createEvent(admin, community, { startsAt: at(-3 * hourS), endsAt: at(-2 * hourS) });
    const held = await Promise.all([upcoming, underWay, ended].map((event) => takeTicket(holder, event.id)));
    return { holder, events: { upcoming, underWay, ended }, held: held as [TicketDto, TicketDto, TicketDto] };
  }

  async function expectNoAccess(holder: TestUser, held: TicketDto[]) {
    expect(await (await holder.client.get("/api/tickets")).json()).toEqual({ items: [], nextCursor: null });
    for (const ticket of held) {
      expect((await holder.client.get(`/api/tickets/${ticket.id}`)).status).toBe(404);
      expect((await holder.client.get(`/api/tickets/${ticket.id}/qr.svg`)).status).toBe(404);
    }
  }

  for (const [how, end] of [
    ["is removed", (holder: TestUser) => admin.client.request("DELETE", `/api/communities/${community.slug}/members/${holder.id}`)],
    ["leaves", (holder: TestUser) => holder.client.request("DELETE", `/api/communities/${community.slug}/members/${holder.id}`)],
  ] as const) {
    it(`revokes the tickets of a member who ${how} to events that have not ended, giving their seats back`, async () => {
      const { holder, events: planned, held } = await memberWithTickets();
      expect(await seats(planned.upcoming.id)).toBe(1);
      expect((await end(holder)).status).toBe(204);

      await expectNoAccess(holder, held);
      const [upcoming, underWay] = held;
      for (const [eventId, code] of [
        [planned.upcoming.id, upcoming.code],
        [planned.underWay.id, underWay.code],
      ] as const) {
        const refused = await scan(eventId, code);
        expect(refused.status).toBe(422);
        expect(await refused.json()).toMatchObject({ result: "invalid", reason: "revoked" });
      }
      expect(await seats(planned.upcoming.id)).toBe(0);
      const statuses = await server.container.db
        .select({ id: tickets.id, status: tickets.status })
        .from(tickets)
        .where(eq(tickets.userId, holder.id));
      expect(Object.fromEntries(statuses.map((row) => [row.id, row.status]))).toEqual({
        [held[0].id]: "revoked",
        [held[1].id]: "revoked",
        [held[2].id]: "valid",
      });
      // The seat went back: someone else can take it.
      const next = await signedInUser(server, "Nina Next");
      await addMembers(server, community, [next]);
      expect((await next.client.post(`/api/events/${planned.upcoming.id}/tickets`)).status).toBe(201);
    });
  }

  it("gives a member who comes back the same ticket again, valid, when a seat is free", async () => {
    const { holder, events: planned, held } = await memberWithTickets();
    await admin.client.request("DELETE", `/api/communities/${community.slug}/members/${holder.id}`);
    await addMembers(server, community, [holder]);
    const again = await takeTicket(holder, planned.upcoming.id);
    expect(again).toEqual({ ...held[0], status: "valid" });
    expect((await scan(planned.upcoming.id, again.code)).status).toBe(201);
    expect(await seats(planned.upcoming.id)).toBe(1);
  });

  it("never leaves a valid ticket with someone removed while taking it (20 races)", async () => {
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        const holder = await signedInUser(server, "Rita Racer");
        await addMembers(server, community, [holder]);
        const event = await createEvent(admin, community, { startsAt: at(24 * hourS) });
        const [taken, removed] = await Promise.all([
          holder.client.post(`/api/events/${event.id}/tickets`),
          admin.client.request("DELETE", `/api/communities/${community.slug}/members/${holder.id}`),
        ]);
        expect([removed.status, [201, 404].includes(taken.status)]).toEqual([204, true]);
        const valid = await server.container.db
          .select({ id: tickets.id })
          .from(tickets)
          .where(and(eq(tickets.userId, holder.id), eq(tickets.status, "valid")));
        expect(valid).toEqual([]);
        expect(await seats(event.id)).toBe(0);
      }),
    );
  });
});
