import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EventDto } from "../../../shared/api/events.ts";
import { HttpClient, startTestServer, type TestServer } from "../../test/harness.ts";
import { insertCommunity, createEvent, type TestCommunity, type TestUser, communityWithCast } from "../../test/factories.ts";

interface ErrorJson {
  error: { code: string; message: string; details?: Array<{ path: string; message: string }> };
}

describe("events", () => {
  let server: TestServer;
  let admin: TestUser;
  let staff: TestUser;
  let member: TestUser;
  let outsider: TestUser;
  let community: TestCommunity;

  beforeAll(async () => {
    server = await startTestServer();
    ({ admin, staff, member, outsider, community } = await communityWithCast(server));
  });
  afterAll(() => server.close());

  it("lets an admin create an event: 201 with the event", async () => {
    const response = await admin.client.post(`/api/communities/${community.slug}/events`, {
      title: "  Summer fête ",
      startsAt: "2030-06-21T18:00:00+02:00",
      endsAt: "2030-06-21T23:00:00+02:00",
      location: "Town hall",
      capacity: 120,
    });
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({
      event: {
        id: expect.any(String),
        communityId: community.id,
        title: "Summer fête",
        startsAt: "2030-06-21T16:00:00.000Z",
        endsAt: "2030-06-21T21:00:00.000Z",
        location: "Town hall",
        capacity: 120,
        ticketsIssued: 0,
      },
    });
  });

  it("creates an event without the optional fields (no end, no place, no limit)", async () => {
    const event = await createEvent(admin, community, { title: "Open day" });
    expect(event).toMatchObject({ title: "Open day", endsAt: null, location: null, capacity: null, ticketsIssued: 0 });
  });

  it("refuses event creation to staff and members (403) and to outsiders (404)", async () => {
    const body = { title: "Not mine to create", startsAt: "2030-01-01T10:00:00Z" };
    const asStaff = await staff.client.post(`/api/communities/${community.slug}/events`, body);
    const asMember = await member.client.post(`/api/communities/${community.slug}/events`, body);
    const asOutsider = await outsider.client.post(`/api/communities/${community.slug}/events`, body);
    expect([asStaff.status, asMember.status, asOutsider.status]).toEqual([403, 403, 404]);
    expect(await asStaff.json()).toMatchObject({ error: { code: "forbidden" } });
    expect(await asOutsider.json()).toMatchObject({ error: { code: "not_found" } });
  });

  it("validates the event with messages that name the fields", async () => {
    const response = await admin.client.post(`/api/communities/${community.slug}/events`, {
      title: "",
      startsAt: "next tuesday",
      capacity: 0,
      location: "x".repeat(301),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as ErrorJson;
    expect(body.error.code).toBe("validation_failed");
    expect(body.error.details?.map((detail) => detail.path).sort()).toEqual(["capacity", "location", "startsAt", "title"]);
    expect(body.error.message).toMatch(/title: required/);
    expect(body.error.message).toMatch(/startsAt: must be an ISO 8601 date-time with a time zone/);
    expect(body.error.message).toMatch(/capacity: at least 1/);

    const backwards = await admin.client.post(`/api/communities/${community.slug}/events`, {
      title: "Backwards",
      startsAt: "2030-01-02T10:00:00Z",
      endsAt: "2030-01-01T10:00:00Z",
    });
    expect(backwards.status).toBe(400);
    expect(await backwards.json()).toMatchObject({ error: { message: "endsAt: must be after startsAt" } });

    const fractional = await admin.client.post(`/api/communities/${community.slug}/events`, {
      title: "Fractional",
      startsAt: "2030-01-02T10:00:00Z",
      capacity: 2.5,
    });
    expect(await fractional.json()).toMatchObject({ error: { message: "capacity: must be a whole number" } });

    const huge = await admin.client.post(`/api/communities/${community.slug}/events`, {
      title: "Stadium",
      startsAt: "2030-01-02T10:00:00Z",
      capacity: 2 ** 31,
    });
    expect(await huge.json()).toMatchObject({ error: { message: "capacity: at most 1000000" } });
  });

  it("lists events to members, upcoming first, page by page with an opaque cursor", async () => {
    const listed = await insertCommunity(server, [
      { user: admin, role: "admin" },
      { user: member, role: "member" },
    ]);
    const sameStart = "2031-03-01T09:00:00.000Z";
    const created: EventDto[] = [];
    for (const startsAt of ["2031-05-01T09:00:00Z", sameStart, "2031-01-01T09:00:00Z", sameStart, "2031-04-01T09:00:00.123Z"]) {
      created.push(await createEvent(admin, listed, { startsAt }));
    }
    const expected = [...created].sort((a, b) => a.startsAt.localeCompare(b.startsAt) || a.id.localeCompare(b.id)).map((event) => event.id);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : "?limit=2";
      const response = await member.client.get(`/api/communities/${listed.slug}/events${query}`);
      expect(response.status).toBe(200);
      const page = (await response.json()) as { items: EventDto[]; nextCursor: string | null };
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((event) => event.id));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(expected);

    const all = (await (await member.client.get(`/api/communities/${listed.slug}/events`)).json()) as {
      items: EventDto[];
      nextCursor: null;
    };
    expect(all.items.map((event) => event.id)).toEqual(expected);
    expect(all.nextCursor).toBeNull();
  });

  it("answers 400 for a bad limit or a tampered cursor, never 500", async () => {
    const tooMany = await member.client.get(`/api/communities/${community.slug}/events?limit=500`);
    expect(tooMany.status).toBe(400);
    expect(await tooMany.json()).toMatchObject({ error: { code: "validation_failed", message: "limit: at most 100" } });
    const forged = [
      "garbage",
      Buffer.from(JSON.stringify(["2031-02-31T09:00:00.000000Z", randomUUID()])).toString("base64url"),
      Buffer.from(JSON.stringify(["2031-02-01 09:00", randomUUID()])).toString("base64url"),
      Buffer.from(JSON.stringify(["2031-02-01T09:00:00.000000Z", "not-a-uuid"])).toString("base64url"),
    ];
    for (const cursor of forged) {
      const response = await member.client.get(`/api/communities/${community.slug}/events?cursor=${cursor}`);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: "validation_failed", message: expect.stringMatching(/^cursor: /) } });
    }
  });

  it("shows one event to members of its community, 404 to outsiders and for unknown ids, 401 to anonymous callers", async () => {
    const event = await createEvent(admin, community, { title: "Board meeting" });
    for (const [viewer, role] of [
      [admin, "admin"],
      [staff, "staff"],
      [member, "member"],
    ] as const) {
      const response = await viewer.client.get(`/api/events/${event.id}`);
      expect(response.status).toBe(200);
      // With its community (for the page's way back) and the viewer's role there (what the page offers them).
      expect(await response.json()).toEqual({ event, community: { slug: community.slug, name: `Community ${community.slug}` }, role });
    }
    const asOutsider = await outsider.client.get(`/api/events/${event.id}`);
    const unknown = await member.client.get(`/api/events/${randomUUID()}`);
    expect([asOutsider.status, unknown.status]).toEqual([404, 404]);
    // Same answer for both: an outsider learns nothing, not even that the event exists.
    const [outsiderBody, unknownBody] = (await Promise.all([asOutsider.json(), unknown.json()])) as ErrorJson[];
    expect(outsiderBody?.error.message).toBe(unknownBody?.error.message);

    const anonymous = new HttpClient(server.url);
    const responses = await Promise.all([
      anonymous.get(`/api/events/${event.id}`),
      anonymous.get(`/api/communities/${community.slug}/events`),
      anonymous.post(`/api/communities/${community.slug}/events`, { title: "x", startsAt: "2030-01-01T00:00:00Z" }),
      anonymous.post(`/api/communities/${community.slug}/events`, { title: "" }),
    ]);
    expect(responses.map((response) => response.status)).toEqual([401, 401, 401, 401]);
    expect(await responses[0]?.json()).toMatchObject({ error: { code: "unauthenticated" } });
  });

  it("hides a community's event list from outsiders (404) and validates the event id", async () => {
    const list = await outsider.client.get(`/api/communities/${community.slug}/events`);
    expect(list.status).toBe(404);
    const badId = await member.client.get("/api/events/not-an-id");
    expect(badId.status).toBe(400);
    expect(await badId.json()).toMatchObject({ error: { code: "validation_failed", message: "eventId: must be an event id" } });
  });
});
