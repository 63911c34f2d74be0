import { randomUUID } from "node:crypto";
import { and, count, eq, isNull } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { UserDto } from "../../../shared/api/auth.ts";
import type { EventDto, TicketDto } from "../../../shared/api/events.ts";
import { checkinScans, checkins, tickets } from "../../../shared/schema/index.ts";
import { HttpClient, startTestServer, type TestServer } from "../../test/harness.ts";
import {
  addMembers,
  createEvent,
  insertUsers,
  issueTickets,
  signedInUser,
  names,
  signedInUsers,
  takeTicket,
  type TestCommunity,
  type TestUser,
  communityWithCast,
} from "../../test/factories.ts";

interface ScanJson {
  result?: "checked_in" | "already_checked_in" | "invalid";
  reason?: string;
  ticket?: TicketDto;
  member?: { name: string };
  checkedInAt?: string;
  firstCheckedInAt?: string;
  error?: { code: string; message: string; reason?: string; requestId?: string; details?: Array<{ path: string }> };
}

interface Answer {
  status: number;
  body: ScanJson;
  /** The body as sent, byte for byte. */
  text: string;
  requestId: string | null;
}

/** Replaces one character of a code, keeping its length and alphabet: a forgery the signature must catch. */
function alter(code: string, position = 30): string {
  return code.slice(0, position) + (code[position] === "A" ? "B" : "A") + code.slice(position + 1);
}

/** The answer without what belongs to one request only (its id). */
function withoutRequestId(body: ScanJson): ScanJson {
  if (!body.error) return body;
  const { requestId: _requestId, ...error } = body.error;
  return { ...body, error };
}

describe("check-in at the door", () => {
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

  async function scan(scanner: TestUser, eventId: string, body: unknown): Promise<Answer> {
    const response = await scanner.client.post(`/api/events/${eventId}/checkins`, body);
    const text = await response.text();
    return { status: response.status, body: JSON.parse(text) as ScanJson, text, requestId: response.headers.get("x-request-id") };
  }

  async function checkinRows(eventId: string): Promise<number> {
    const [row] = await server.container.db.select({ n: count() }).from(checkins).where(eq(checkins.eventId, eventId));
    return row?.n ?? -1;
  }

  async function stats(scanner: TestUser, eventId: string) {
    const response = await scanner.client.get(`/api/events/${eventId}/checkins/stats`);
    return { status: response.status, body: (await response.json()) as unknown };
  }

  it("checks a ticket in once: 201 checked_in, then 200 already_checked_in with the first time", async () => {
    const event = await createEvent(admin, community);
    const ticket = await takeTicket(member, event.id);
    const first = await scan(staff, event.id, { code: ticket.code });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ result: "checked_in", ticket, member: { name: "Mia Member" }, checkedInAt: expect.any(String) });
    expect(Date.parse(first.body.checkedInAt ?? "")).toBeGreaterThan(Date.now() - 60_000);

    const second = await scan(admin, event.id, { code: ticket.code });
    expect(second.status).toBe(200);
    expect(second.body).toEqual({ result: "already_checked_in", firstCheckedInAt: first.body.checkedInAt, member: { name: "Mia Member" } });
    expect(await checkinRows(event.id)).toBe(1);
    const [row] = await server.container.db.select().from(checkins).where(eq(checkins.ticketId, ticket.id));
    expect(row?.scannedBy).toBe(staff.id);
  });

  /** The SQL statements the server sends while `act` runs, through the real pool's clients (only counted, not altered). */
  async function statementsDuring(act: () => Promise<unknown>): Promise<string[]> {
    const query = vi.spyOn(pg.Client.prototype, "query");
    try {
      await act();
      const texts = query.mock.calls.map(([config]) => (typeof config === "string" ? config : (config as { text: string }).text));
      // The breaker's periodic `select 1`, and sessions when this run has no Redis, are no part of a scan.
      return texts.filter((text) => text !== "select 1" && !/"?sessions"?/.test(text));
    } finally {
      query.mockRestore();
    }
  }

  it("answers a scan of a signed-in scanner in three statements: the authorization, the ticket, the check-in (or the first one)", async () => {
    const event = await createEvent(admin, community);
    const ticket = await takeTicket(member, event.id);
    // The scanner's session user is in the cache after any request.
    expect((await stats(staff, event.id)).status).toBe(200);
    const first = await statementsDuring(async () => expect((await scan(staff, event.id, { code: ticket.code })).status).toBe(201));
    const again = await statementsDuring(async () => expect((await scan(staff, event.id, { code: ticket.code })).status).toBe(200));
    expect(first).toHaveLength(3);
    expect(again).toHaveLength(3);
  });

  it("answers a repeated nonce with the first answer, byte for byte and status included; a new nonce is a new scan", async () => {
    const event = await createEvent(admin, community);
    const ticket = await takeTicket(member, event.id);
    const first = await scan(staff, event.id, { code: ticket.code, nonce: "tap-1" });
    const retry = await scan(staff, event.id, { code: ticket.code, nonce: "tap-1" });
    expect(first.status).toBe(201);
    expect(retry).toEqual({ ...first, requestId: retry.requestId });
    expect(retry.text).toBe(first.text);
    const next = await scan(staff, event.id, { code: ticket.code, nonce: "tap-2" });
    expect(next.status).toBe(200);
    expect(next.body).toMatchObject({ result: "already_checked_in", firstCheckedInAt: first.body.checkedInAt });
    const nextRetry = await scan(staff, event.id, { code: ticket.code, nonce: "tap-2" });
    expect(nextRetry).toEqual({ ...next, requestId: nextRetry.requestId });

    // Nonces belong to one event: the same nonce at another event's door is a scan of its own.
    const otherEvent = await createEvent(admin, community);
    const otherTicket = await takeTicket(member, otherEvent.id);
    const elsewhere = await scan(staff, otherEvent.id, { code: otherTicket.code, nonce: "tap-1" });
    expect(elsewhere.status).toBe(201);
    expect(elsewhere.body.ticket?.id).toBe(otherTicket.id);
  });

  it("keeps each scanner's nonces its own: two staff numbering their scans 1 to 50 at once each get their own answers", async () => {
    const event = await createEvent(admin, community);
    const second = await signedInUser(server, "Sid Second");
    // Guests never call the API themselves here: rows suffice.
    const guests = await insertUsers(server, names("Pair guest", 100));
    await addMembers(server, community, [second], "staff");
    await addMembers(server, community, guests);
    const issued = await issueTickets(server, event.id, guests);
    const scanBoth = () =>
      Promise.all(
        issued.map((ticket, index) => scan(index < 50 ? staff : second, event.id, { code: ticket.code, nonce: String((index % 50) + 1) })),
      );

    const answers = await scanBoth();
    expect(answers.map((answer) => [answer.status, answer.body.ticket?.id, answer.body.member?.name])).toEqual(
      issued.map((ticket, index) => [201, ticket.id, guests[index]?.name]),
    );
    expect(await checkinRows(event.id)).toBe(100);
    // Both scanners retry every scan: each gets its own first answer back, byte for byte.
    const retries = await scanBoth();
    expect(retries.map((answer) => [answer.status, answer.text])).toEqual(answers.map((answer) => [answer.status, answer.text]));
    expect(await checkinRows(event.id)).toBe(100);
  });

  it("refuses a nonce sent again with another code: 409 nonce_reused, and nothing is checked in", async () => {
    const event = await createEvent(admin, community);
    const [first, other] = await signedInUsers(server, ["Fay First", "Oscar Other"]);
    await addMembers(server, community, [first as TestUser, other as TestUser]);
    const firstTicket = await takeTicket(first as TestUser, event.id);
    const otherTicket = await takeTicket(other as TestUser, event.id);
    expect((await scan(staff, event.id, { code: firstTicket.code, nonce: "1" })).status).toBe(201);

    for (const code of [otherTicket.code, alter(otherTicket.code), "not a code at all"]) {
      const reused = await scan(staff, event.id, { code, nonce: "1" });
      expect(reused.status).toBe(409);
      expect(reused.body).toMatchObject({
        error: { code: "conflict", reason: "nonce_reused", message: expect.stringMatching(/^nonce: /) },
      });
    }
    expect(await checkinRows(event.id)).toBe(1);
    // Another scanner's nonce "1" is another scan; a new nonce of this one admits the other ticket.
    expect((await scan(admin, event.id, { code: otherTicket.code, nonce: "1" })).status).toBe(201);
    expect((await scan(staff, event.id, { code: otherTicket.code, nonce: "2" })).status).toBe(200);
  });

  it("answers 422 invalid with the reason and the error shape in one body", async () => {
    const event = await createEvent(admin, community);
    const other = await createEvent(admin, community);
    const ticket = await takeTicket(member, event.id);
    const otherTicket = await takeTicket(member, other.id);

    const forged = await scan(staff, event.id, { code: alter(ticket.code) });
    expect(forged.status).toBe(422);
    expect(forged.body).toEqual({
      result: "invalid",
      reason: "unknown_code",
      error: {
        code: "invalid_ticket",
        reason: "unknown_code",
        message: "code: not a ticket code of this platform",
        requestId: forged.requestId,
      },
    });

    const wrongEvent = await scan(staff, event.id, { code: otherTicket.code });
    expect(wrongEvent.status).toBe(422);
    expect(wrongEvent.body).toMatchObject({
      result: "invalid",
      reason: "wrong_event",
      error: { code: "invalid_ticket", reason: "wrong_event" },
    });

    const junk = await scan(staff, event.id, { code: "hello, is this a ticket?" });
    expect(junk.body).toMatchObject({ result: "invalid", reason: "unknown_code" });

    // Correctly signed, but for a ticket that does not exist (anymore).
    const orphan = server.container.ticketCodes.sign({ ticketId: randomUUID(), eventId: event.id });
    const unknown = await scan(staff, event.id, { code: orphan });
    expect([unknown.status, unknown.body.reason]).toEqual([422, "unknown_code"]);

    expect(await checkinRows(event.id)).toBe(0);
    expect((await scan(staff, event.id, { code: ticket.code })).status).toBe(201);
  });

  it("refuses a revoked ticket (422 revoked), and a nonce keeps that first answer even after the ticket is restored", async () => {
    const event = await createEvent(admin, community);
    const ticket = await takeTicket(member, event.id);
    await server.container.db.update(tickets).set({ status: "revoked" }).where(eq(tickets.id, ticket.id));
    const refused = await scan(staff, event.id, { code: ticket.code, nonce: "revoked-scan" });
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({
      result: "invalid",
      reason: "revoked",
      error: { code: "invalid_ticket", message: "code: the ticket was revoked" },
    });
    expect(await checkinRows(event.id)).toBe(0);

    await server.container.db.update(tickets).set({ status: "valid" }).where(eq(tickets.id, ticket.id));
    const replay = await scan(staff, event.id, { code: ticket.code, nonce: "revoked-scan" });
    expect(replay.status).toBe(422);
    // The first answer unchanged, the id of the request that made the scan included; the header carries the replay's own.
    expect(replay.text).toBe(refused.text);
    expect(replay.body.error?.requestId).toBe(refused.requestId);
    expect(replay.requestId).not.toBe(refused.requestId);
    expect((await scan(staff, event.id, { code: ticket.code, nonce: "after-restore" })).status).toBe(201);
  });

  it("lets staff and above scan; members get 403, outsiders 404, anonymous callers 401", async () => {
    const event = await createEvent(admin, community);
    const ticket = await takeTicket(member, event.id);
    const asMember = await scan(member, event.id, { code: ticket.code });
    const asOutsider = await scan(outsider, event.id, { code: ticket.code });
    const forgedAsOutsider = await scan(outsider, event.id, { code: alter(ticket.code) });
    const anonymous = await new HttpClient(server.url).post(`/api/events/${event.id}/checkins`, { code: ticket.code });
    const unknownEvent = await scan(staff, randomUUID(), { code: ticket.code });
    expect([asMember.status, asOutsider.status, forgedAsOutsider.status, anonymous.status, unknownEvent.status]).toEqual([
      403, 404, 404, 401, 404,
    ]);
    expect(asMember.body).toMatchObject({ error: { code: "forbidden" } });
    expect(asOutsider.body).toMatchObject({ error: { code: "not_found" } });
    expect(await checkinRows(event.id)).toBe(0);
    expect((await scan(admin, event.id, { code: ticket.code })).status).toBe(201);
  });

  it("validates the scan with messages that name the fields", async () => {
    const event = await createEvent(admin, community);
    const missing = await scan(staff, event.id, {});
    expect(missing.status).toBe(400);
    expect(missing.body.error?.code).toBe("validation_failed");
    expect(missing.body.error?.message).toMatch(/^code: /);
    const bad = await scan(staff, event.id, { code: "", nonce: "n".repeat(101) });
    expect(bad.status).toBe(400);
    expect(bad.body.error?.details?.map((detail) => detail.path).sort()).toEqual(["code", "nonce"]);
    expect(bad.body.error?.message).toMatch(/code: required/);
    expect(bad.body.error?.message).toMatch(/nonce: at most 100 characters/);
  });

  it("counts tickets issued and check-ins for staff; 403 for members, 404 for outsiders, 401 anonymous", async () => {
    const event = await createEvent(admin, community);
    const ticket = await takeTicket(member, event.id);
    await takeTicket(staff, event.id);
    expect(await stats(staff, event.id)).toEqual({ status: 200, body: { ticketsIssued: 2, checkedIn: 0 } });
    await scan(staff, event.id, { code: ticket.code });
    await scan(staff, event.id, { code: ticket.code });
    expect(await stats(admin, event.id)).toEqual({ status: 200, body: { ticketsIssued: 2, checkedIn: 1 } });
    expect((await stats(member, event.id)).status).toBe(403);
    expect((await stats(outsider, event.id)).status).toBe(404);
    expect((await new HttpClient(server.url).get(`/api/events/${event.id}/checkins/stats`)).status).toBe(401);
  });

  describe("the door: 50 tickets, 200 scans at once", () => {
    let holders: UserDto[];
    let scanners: TestUser[];

    beforeAll(async () => {
      holders = await insertUsers(server, names("Guest", 50));
      scanners = await signedInUsers(server, names("Door", 4));
      await addMembers(server, community, holders);
      await addMembers(server, community, scanners, "staff");
    });

    it("admits each ticket exactly once and gives every request the right answer", async () => {
      const event: EventDto = await createEvent(admin, community, { capacity: 50 });
      const otherEvent: EventDto = await createEvent(admin, community);
      const doorTickets = await issueTickets(server, event.id, holders);
      const otherTickets = await issueTickets(server, otherEvent.id, holders.slice(0, 10));

      type Expect = { kind: "valid"; ticket: TicketDto; holder: UserDto } | { kind: "invalid"; reason: string };
      interface Planned {
        body: { code: string; nonce?: string };
        /** Requests of one scan share it: the same nonce, or a request without one on its own. */
        scanKey: string;
        expect: Expect;
      }
      const planned: Planned[] = [];
      doorTickets.forEach((ticket, index) => {
        const holder = holders[index] as UserDto;
        const valid: Expect = { kind: "valid", ticket, holder };
        const tapNonce = `tap-${index}-${randomUUID()}`;
        for (let copy = 0; copy < (index % 2 === 0 ? 3 : 2); copy++) {
          planned.push({ body: { code: ticket.code, nonce: tapNonce }, scanKey: tapNonce, expect: valid });
        }
        if (index % 2 === 0) {
          const nonce = `second-${index}-${randomUUID()}`;
          planned.push({ body: { code: ticket.code, nonce }, scanKey: nonce, expect: valid });
        } else {
          planned.push({ body: { code: ticket.code }, scanKey: `no-nonce-${index}`, expect: valid });
        }
      });
      for (let index = 0; index < 11; index++) {
        const ticket = doorTickets[index] as TicketDto;
        const forgery = alter(ticket.code, 3 + index * 6);
        const nonce = `forged-${index}`;
        planned.push({
          body: index % 2 ? { code: forgery, nonce } : { code: forgery },
          scanKey: nonce,
          expect: { kind: "invalid", reason: "unknown_code" },
        });
      }
      for (let index = 0; index < 2; index++) {
        const orphan = server.container.ticketCodes.sign({ ticketId: randomUUID(), eventId: event.id });
        const nonce = `orphan-${randomUUID()}`;
        for (let copy = 0; copy < 2; copy++) {
          planned.push({ body: { code: orphan, nonce }, scanKey: nonce, expect: { kind: "invalid", reason: "unknown_code" } });
        }
      }
      otherTickets.forEach((ticket, index) => {
        const nonce = `elsewhere-${index}`;
        planned.push({
          body: index % 2 ? { code: ticket.code, nonce } : { code: ticket.code },
          scanKey: nonce,
          expect: { kind: "invalid", reason: "wrong_event" },
        });
      });
      expect(planned).toHaveLength(200);
      // Shuffled, so first scans, duplicates and retries interleave.
      for (let index = planned.length - 1; index > 0; index--) {
        const other = Math.floor(Math.random() * (index + 1));
        [planned[index], planned[other]] = [planned[other] as Planned, planned[index] as Planned];
      }

      // A nonce is one scanner's: the requests of one scan come from the same scanner.
      const scanners_ = new Map<string, TestUser>();
      const scannerOf = (key: string) => {
        if (!scanners_.has(key)) scanners_.set(key, scanners[scanners_.size % scanners.length] as TestUser);
        return scanners_.get(key) as TestUser;
      };
      const answers = await Promise.all(planned.map((plan) => scan(scannerOf(plan.scanKey), event.id, plan.body)));

      expect(answers.filter((answer) => ![200, 201, 422].includes(answer.status))).toEqual([]);
      expect(await checkinRows(event.id)).toBe(50);
      expect(await checkinRows(otherEvent.id)).toBe(0);

      // Every request with a nonce got the same answer as the others with that nonce.
      const byScan = new Map<string, Answer[]>();
      planned.forEach((plan, index) => byScan.set(plan.scanKey, [...(byScan.get(plan.scanKey) ?? []), answers[index] as Answer]));
      for (const [, group] of byScan) {
        const [first, ...rest] = group as [Answer, ...Answer[]];
        for (const answer of rest) {
          expect(answer.status).toBe(first.status);
          expect(withoutRequestId(answer.body)).toEqual(withoutRequestId(first.body));
        }
      }
      // A 422 names the request that made its scan: its own, or for a stored answer replayed, the first of its group.
      for (const group of byScan.values()) {
        const ids = group.map((answer) => answer.requestId);
        for (const answer of group) if (answer.status === 422) expect(ids).toContain(answer.body.error?.requestId);
      }

      // Per ticket: exactly one scan admitted it; every other scan saw the first check-in's time.
      for (const [index, ticket] of doorTickets.entries()) {
        const holder = holders[index] as UserDto;
        const scansOfTicket = [
          ...new Set(
            planned.filter((plan) => plan.expect.kind === "valid" && plan.expect.ticket.id === ticket.id).map((plan) => plan.scanKey),
          ),
        ];
        const firstAnswers = scansOfTicket.map((key) => (byScan.get(key) as Answer[])[0] as Answer);
        const admitted = firstAnswers.filter((answer) => answer.status === 201);
        expect(admitted).toHaveLength(1);
        const admission = admitted[0] as Answer;
        expect(admission.body).toEqual({ result: "checked_in", ticket, member: { name: holder.name }, checkedInAt: expect.any(String) });
        for (const answer of firstAnswers.filter((answer) => answer !== admission)) {
          expect(answer).toMatchObject({
            status: 200,
            body: { result: "already_checked_in", firstCheckedInAt: admission.body.checkedInAt, member: { name: holder.name } },
          });
        }
      }
      planned.forEach((plan, index) => {
        if (plan.expect.kind !== "invalid") return;
        expect(answers[index]).toMatchObject({
          status: 422,
          body: { result: "invalid", reason: plan.expect.reason, error: { code: "invalid_ticket", reason: plan.expect.reason } },
        });
      });

      expect(await stats(staff, event.id)).toEqual({ status: 200, body: { ticketsIssued: 50, checkedIn: 50 } });
      // Every claimed nonce holds its answer: none was left half-written.
      const [unanswered] = await server.container.db
        .select({ n: count() })
        .from(checkinScans)
        .where(and(eq(checkinScans.eventId, event.id), isNull(checkinScans.body)));
      expect(unanswered?.n).toBe(0);
    });
  });
});
