import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { DoorCodeResponse } from "../../../shared/api/events.ts";
import { checkins, tickets } from "../../../shared/schema/index.ts";
import { HttpClient, startTestServer, type TestServer } from "../../test/harness.ts";
import { communityWithCast, createEvent, takeTicket, type TestCommunity, type TestUser } from "../../test/factories.ts";
import { DOOR_CODE_WINDOW_MS, DoorCodes } from "./door-code.ts";

interface ScanJson {
  result?: string;
  reason?: string;
  ticket?: { id: string };
  member?: { name: string };
  checkedInAt?: string;
  firstCheckedInAt?: string;
  error?: { code: string; message: string; reason?: string };
}

describe("self check-in: a member scans the event's door code", () => {
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
  afterEach(() => vi.useRealTimers());

  async function doorCode(user: TestUser, eventId: string): Promise<string> {
    const response = await user.client.get(`/api/events/${eventId}/door-code`);
    expect(response.status).toBe(200);
    return ((await response.json()) as DoorCodeResponse).code;
  }

  async function selfCheckIn(user: { client: HttpClient }, eventId: string, body: unknown) {
    const response = await user.client.post(`/api/events/${eventId}/self-checkin`, body);
    const text = await response.text();
    return { status: response.status, body: JSON.parse(text) as ScanJson, text };
  }

  /** A door code of this server's keys, issued `ageMs` ago. */
  function doorCodeFrom(eventId: string, ageMs: number): string {
    return new DoorCodes(server.container.config.ticketSigningKeys, () => Date.now() - ageMs).issue(eventId).code;
  }

  it("gives staff the door code, never cached, with when to show the next one and when it stops admitting", async () => {
    const event = await createEvent(admin, community);
    const response = await staff.client.get(`/api/events/${event.id}/door-code`);
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("private, no-store");
    const body = (await response.json()) as DoorCodeResponse;
    expect(body).toEqual({ code: expect.stringMatching(/^D1/), expiresAt: expect.any(String), refreshAt: expect.any(String) });
    const refreshIn = Date.parse(body.refreshAt) - Date.now();
    expect(refreshIn).toBeGreaterThan(-1000);
    expect(refreshIn).toBeLessThanOrEqual(DOOR_CODE_WINDOW_MS);
    expect(Date.parse(body.expiresAt) - Date.parse(body.refreshAt)).toBe(DOOR_CODE_WINDOW_MS);

    expect((await member.client.get(`/api/events/${event.id}/door-code`)).status).toBe(403);
    expect((await outsider.client.get(`/api/events/${event.id}/door-code`)).status).toBe(404);
    expect((await new HttpClient(server.url).get(`/api/events/${event.id}/door-code`)).status).toBe(401);
  });

  it("checks the member's ticket in with the answers of a staff scan, and a staff scan after it sees the first time", async () => {
    const event = await createEvent(admin, community);
    const ticket = await takeTicket(member, event.id);
    const code = await doorCode(staff, event.id);

    const first = await selfCheckIn(member, event.id, { doorCode: code, nonce: "self-1" });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ result: "checked_in", ticket, member: { name: "Mia Member" }, checkedInAt: expect.any(String) });
    const again = await selfCheckIn(member, event.id, { doorCode: code });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ result: "already_checked_in", firstCheckedInAt: first.body.checkedInAt, member: { name: "Mia Member" } });
    const byStaff = await staff.client.post(`/api/events/${event.id}/checkins`, { code: ticket.code });
    expect(byStaff.status).toBe(200);

    const rows = await server.container.db.select().from(checkins).where(eq(checkins.eventId, event.id));
    expect(rows.map((row) => [row.ticketId, row.scannedBy])).toEqual([[ticket.id, member.id]]);
    const stats = await staff.client.get(`/api/events/${event.id}/checkins/stats`);
    expect(await stats.json()).toEqual({ ticketsIssued: 1, checkedIn: 1 });
  });

  it("answers 422 door_code_expired for an old code, door_code_invalid for a forged one or another event's, and checks nothing in", async () => {
    const event = await createEvent(admin, community);
    const other = await createEvent(admin, community);
    const ticket = await takeTicket(member, event.id);
    const code = await doorCode(staff, event.id);

    const stale = await selfCheckIn(member, event.id, { doorCode: doorCodeFrom(event.id, 3 * DOOR_CODE_WINDOW_MS) });
    expect(stale.status).toBe(422);
    expect(stale.body).toMatchObject({
      result: "invalid",
      reason: "door_code_expired",
      error: { code: "invalid_door_code", reason: "door_code_expired", message: expect.stringMatching(/^doorCode: /) },
    });
    // The code shown just before the current one still admits: the member may have scanned it as it changed.
    const justBefore = doorCodeFrom(event.id, DOOR_CODE_WINDOW_MS);
    const forged = code.slice(0, 20) + (code[20] === "A" ? "B" : "A") + code.slice(21);
    for (const given of [forged, await doorCode(staff, other.id), ticket.code, "not a door code"]) {
      const answer = await selfCheckIn(member, event.id, { doorCode: given });
      expect(answer.status).toBe(422);
      expect(answer.body).toMatchObject({ result: "invalid", reason: "door_code_invalid", error: { code: "invalid_door_code" } });
    }
    expect(await server.container.db.select().from(checkins).where(eq(checkins.eventId, event.id))).toEqual([]);
    expect((await selfCheckIn(member, event.id, { doorCode: justBefore })).status).toBe(201);
  });

  it("answers a member without a ticket 409 no_ticket, a revoked ticket 422 revoked, an outsider 404 and a stranger 401", async () => {
    const event = await createEvent(admin, community);
    const code = await doorCode(staff, event.id);
    const none = await selfCheckIn(member, event.id, { doorCode: code, nonce: "n-1" });
    expect(none.status).toBe(409);
    expect(none.body.error).toMatchObject({ code: "conflict", reason: "no_ticket" });
    // The refused scan left no claimed nonce: once the member holds a ticket, the same nonce admits.
    const ticket = await takeTicket(member, event.id);
    await server.container.db.update(tickets).set({ status: "revoked" }).where(eq(tickets.id, ticket.id));
    const revoked = await selfCheckIn(member, event.id, { doorCode: code, nonce: "n-1" });
    expect(revoked.status).toBe(422);
    expect(revoked.body).toMatchObject({ result: "invalid", reason: "revoked", error: { code: "invalid_ticket" } });
    expect((await selfCheckIn(outsider, event.id, { doorCode: code })).status).toBe(404);
    expect((await selfCheckIn({ client: new HttpClient(server.url) }, event.id, { doorCode: code })).status).toBe(401);
    const missing = await selfCheckIn(member, event.id, { nonce: "x" });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({ code: "validation_failed" });
  });

  it("answers a retry of a scan with its first answer, byte for byte, even once the door code has expired", async () => {
    const event = await createEvent(admin, community);
    await takeTicket(member, event.id);
    const code = await doorCode(staff, event.id);
    const first = await selfCheckIn(member, event.id, { doorCode: code, nonce: "offline-1" });
    expect(first.status).toBe(201);

    // The member's phone was offline: its retry arrives two minutes later.
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 4 * DOOR_CODE_WINDOW_MS });
    const retry = await selfCheckIn(member, event.id, { doorCode: code, nonce: "offline-1" });
    expect(retry).toEqual(first);
    const fresh = await selfCheckIn(member, event.id, { doorCode: code, nonce: "offline-2" });
    expect(fresh.body).toMatchObject({ result: "invalid", reason: "door_code_expired" });
    const reused = await selfCheckIn(member, event.id, { doorCode: doorCodeFrom(event.id, 0), nonce: "offline-1" });
    expect(reused.status).toBe(409);
    expect(reused.body.error).toMatchObject({ reason: "nonce_reused" });
  });

  it("checks a ticket in once when the member and two staff scan it at the same moment", async () => {
    const event = await createEvent(admin, community);
    const ticket = await takeTicket(member, event.id);
    const code = await doorCode(staff, event.id);
    const answers = await Promise.all([
      ...Array.from({ length: 6 }, (_, index) => selfCheckIn(member, event.id, { doorCode: code, nonce: `race-${index}` })),
      ...[staff, admin].flatMap((scanner) =>
        Array.from({ length: 3 }, async () => {
          const response = await scanner.client.post(`/api/events/${event.id}/checkins`, { code: ticket.code });
          return { status: response.status, body: (await response.json()) as ScanJson };
        }),
      ),
    ]);
    expect(answers.filter((answer) => answer.status === 201)).toHaveLength(1);
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(answers.length - 1);
    const firstTime = answers.find((answer) => answer.status === 201)?.body.checkedInAt;
    expect(new Set(answers.map((answer) => answer.body.checkedInAt ?? answer.body.firstCheckedInAt))).toEqual(new Set([firstTime]));
    expect(await server.container.db.select().from(checkins).where(eq(checkins.eventId, event.id))).toHaveLength(1);
  });
});
