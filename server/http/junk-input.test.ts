import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type z } from "zod";
import type { Page } from "../../shared/api/pagination.ts";
import { stripeEvents } from "../../shared/schema/index.ts";
import { HttpClient, startTestServer, type TestServer } from "../test/harness.ts";
import {
  addMember,
  createCommunity,
  createEvent,
  insertDuesPayment,
  signedInUsers,
  takeTicket,
  TEST_PASSWORD,
  uniqueEmail,
  type TestUser,
} from "../test/factories.ts";
import { routeTable, type RouteEntry } from "./route-table.ts";

/**
 * Junk in every field, query and path segment of every route of the
 * application's own route table: every answer is a deliberate 4xx in the error
 * shape, and the test server fails the file on any 500. A route added without
 * a sample below fails this file until it has one.
 */

const key = (route: Pick<RouteEntry, "method" | "path">) => `${route.method} ${route.path}`;

/** Junk for every field, whatever its type. */
const ANY_FIELD_JUNK: unknown[] = ["a\u0000b", "\u001b[31mred", -12_345.5, ["x"], { a: 1 }, "x".repeat(25_000)];
/** Junk for the fields that hold dates: outside what Postgres (or JavaScript) can store, or impossible. */
const DATE_JUNK = [
  "0000-01-01T00:00:00Z",
  "9999-12-31T23:59:59-23:59",
  "+275760-09-13T00:00:00.000Z",
  "2031-02-30T10:00:00Z",
  "1969-12-31T23:59:59Z",
  "next tuesday",
];
/** Junk for names, shown to other people: a right-to-left override makes "evil.exe" read as "exe.live". */
const NAME_JUNK = ["\u202eexe.live", "a\u2066b"];

const junkFor = (field: string): unknown[] => [
  ...ANY_FIELD_JUNK,
  ...(/At$/.test(field) ? DATE_JUNK : []),
  ...(field === "name" ? NAME_JUNK : []),
];

/** Path segments that are no slug, no id: malformed escapes, NUL, traversal, injection, overrides, length. */
const SEGMENT_JUNK = ["%zz", "a%00b", "..%2F..%2Fetc", "'%20or%201%3D1%20--", "%E2%80%AEevil", "x".repeat(300), "%C0%AF"];
/** Enough to show that a caller without a session gets its refusal first, whatever the path holds. */
const ANONYMOUS_SEGMENT_JUNK = ["%zz", "a%00b", "x".repeat(300)];

describe("junk input on every route", () => {
  let server: TestServer;
  let owner: TestUser;
  let member: TestUser;
  let routes: RouteEntry[];
  let params: Record<string, string>;
  /** One real cursor of each paginated list, by route. */
  const cursors = new Map<string, string>();

  beforeAll(async () => {
    server = await startTestServer();
    routes = routeTable(server.app).filter((route) => route.path.startsWith("/api/") && !route.path.startsWith("/api/health"));
    [owner, member] = (await signedInUsers(server, ["Olga Owner", "Mia Member"])) as [TestUser, TestUser];
    const community = await createCommunity(owner.client, { joinPolicy: "open" });
    await createCommunity(owner.client);
    await addMember(owner.client, community.slug, member);
    const slugged = { id: community.id, slug: community.slug };
    const event = await createEvent(owner, slugged);
    const later = await createEvent(owner, slugged, { startsAt: new Date(Date.now() + 2 * 86_400_000).toISOString() });
    const ticket = await takeTicket(owner, event.id);
    await takeTicket(owner, later.id);
    for (const title of ["one", "two"]) await owner.client.post(`/api/communities/${community.slug}/news`, { title, body: title });
    // Two payments of the owner, as a paid dues session records them (no Stripe here), so that the community's payments and
    // the owner's own (their receipts) both have a cursor.
    for (let index = 0; index < 2; index += 1) await insertDuesPayment(server, { communityId: community.id, userId: owner.id });
    // Two stored Stripe events, so that the operators' list of them has a cursor.
    const stripeEvent = (id: string) => ({ id, type: "customer.created", created: 1, payload: {}, status: "ignored" as const });
    await server.container.db.insert(stripeEvents).values([stripeEvent(`evt_${randomUUID()}`), stripeEvent(`evt_${randomUUID()}`)]);
    params = { slug: community.slug, eventId: event.id, ticketId: ticket.id, userId: member.id, id: `evt_${randomUUID()}` };
    samples.set("POST /api/events/:eventId/checkins", () => ({ code: ticket.code, nonce: "n-1" }));
    const door = (await (await owner.client.get(`/api/events/${event.id}/door-code`)).json()) as { code: string };
    samples.set("POST /api/events/:eventId/self-checkin", () => ({ doorCode: door.code, nonce: "n-2" }));
    for (const route of routes.filter((entry) => entry.method === "GET" && entry.schemas.query)) {
      const page = (await (await owner.client.get(`${fill(route.path)}?limit=1`)).json()) as Page<unknown>;
      if (page.nextCursor) cursors.set(key(route), page.nextCursor);
    }
  });
  afterAll(() => server.close());

  /** A valid body for every route that reads one: each test replaces one field of it with junk. */
  const samples = new Map<string, () => Record<string, unknown>>([
    ["POST /api/auth/register", () => ({ email: uniqueEmail(), password: "a long enough password", name: "Newcomer" })],
    ["POST /api/auth/login", () => ({ email: uniqueEmail(), password: "whatever it is" })],
    ["POST /api/auth/password-reset", () => ({ email: uniqueEmail() })],
    ["POST /api/auth/password-reset/confirm", () => ({ token: "t".repeat(43), password: "a long enough password" })],
    ["POST /api/auth/password", () => ({ currentPassword: TEST_PASSWORD, newPassword: "a brand new passphrase" })],
    [
      "POST /api/communities",
      () => ({ name: "Junk club", slug: `j-${randomUUID().slice(0, 8)}`, description: "About", joinPolicy: "open" }),
    ],
    ["PATCH /api/communities/:slug", () => ({ name: "Renamed", description: "Text", joinPolicy: "open" })],
    ["POST /api/communities/:slug/members", () => ({ email: uniqueEmail(), role: "member" })],
    ["PATCH /api/communities/:slug/members/:userId", () => ({ role: "staff" })],
    ["POST /api/communities/:slug/news", () => ({ title: "Title", body: "Body" })],
    ["POST /api/communities/:slug/subscription/checkout", () => ({ planId: "pro" })],
    ["PUT /api/communities/:slug/dues", () => ({ amountCents: 1200, currency: "eur", periodMonths: 12 })],
    [
      "POST /api/communities/:slug/events",
      () => ({ title: "T", startsAt: "2031-01-01T10:00:00Z", endsAt: "2031-01-01T12:00:00Z", location: "Here", capacity: 10 }),
    ],
  ]);

  const fill = (path: string, replace: Record<string, string> = {}) =>
    path.replace(/:(\w+)/g, (_match, name: string) => replace[name] ?? params[name] ?? `missing-${name}`);

  async function expectRefused(response: Response, what: string, statuses: number[] = [400]): Promise<void> {
    const text = await response.text();
    expect([what, response.status], text).toEqual([what, expect.toSatisfy((status: number) => statuses.includes(status))]);
    expect((JSON.parse(text) as { error?: { code?: unknown } }).error?.code, what).toEqual(expect.any(String));
  }

  it("has a valid sample body for every route that reads one", () => {
    const missing = routes.filter((route) => route.schemas.body && !samples.has(key(route))).map(key);
    expect(missing).toEqual([]);
  });

  it("refuses junk in every field of every body with 400 naming the field", async () => {
    for (const route of routes.filter((entry) => entry.schemas.body)) {
      const sample = samples.get(key(route));
      const shape = (route.schemas.body as z.ZodObject).shape;
      for (const field of Object.keys(shape)) {
        for (const junk of junkFor(field)) {
          const response = await owner.client.request(route.method, fill(route.path), { ...sample?.(), [field]: junk });
          const what = `${key(route)} with ${field} = ${JSON.stringify(junk).slice(0, 40)}`;
          await expectRefused(response.clone(), what);
          expect(((await response.json()) as { error: { details: Array<{ path: string }> } }).error.details, what).toContainEqual(
            expect.objectContaining({ path: field }),
          );
        }
      }
    }
  });

  it("refuses bodies that are not an object of JSON: malformed, arrays, primitives, prototype tricks", async () => {
    const bodies = ['{"title": ', "[1, 2, 3]", '"text"', "null", "42", '{"__proto__": {"admin": true}}'];
    for (const route of routes.filter((entry) => entry.schemas.body)) {
      for (const body of bodies) {
        await expectRefused(await owner.client.request(route.method, fill(route.path), body), `${key(route)} with ${body}`);
      }
    }
  });

  it("refuses junk queries: limits, cursors of other lists, cursors holding impossible dates or NUL, NUL in a search", async () => {
    const listRoutes = routes.filter((entry) => entry.method === "GET" && entry.schemas.query);
    expect([...cursors.keys()].sort()).toEqual(listRoutes.map(key).sort());
    const recoded = (cursor: string, change: (json: string) => string) =>
      Buffer.from(change(Buffer.from(cursor, "base64url").toString("utf8"))).toString("base64url");
    for (const route of listRoutes) {
      const own = cursors.get(key(route)) as string;
      const foreign = [...cursors.entries()].filter(([other]) => other !== key(route)).map(([, cursor]) => cursor);
      const datedCursor = /\d{4}-\d\d-\d\dT[^"]+/;
      const withDate = (date: string) =>
        datedCursor.test(Buffer.from(own, "base64url").toString()) ? [recoded(own, (json) => json.replace(datedCursor, date))] : [];
      const junk = [
        "limit=-1",
        "limit=1.5",
        "limit=1000",
        "limit=ten",
        "cursor=%00",
        "cursor=garbage",
        ...[...withDate("0000-01-01T00:00:00.000000Z"), ...withDate("9999-12-31T23:59:59.999999Z")].map((cursor) => `cursor=${cursor}`),
        `cursor=${recoded(own, (json) => json.replace(/"([^"]*)"\]\]$/, '"\\u0000$1"]]'))}`,
        ...foreign.map((cursor) => `cursor=${cursor}`),
        ...(route.path.endsWith("/members") ? ["q=%00", "q=a%07b"] : []),
      ];
      for (const query of junk) await expectRefused(await owner.client.get(`${fill(route.path)}?${query}`), `${key(route)}?${query}`);
    }
  });

  it("refuses junk in every path segment with 400 or 404", async () => {
    for (const route of routes.filter((entry) => entry.schemas.params)) {
      for (const name of [...route.path.matchAll(/:(\w+)/g)].map((match) => match[1] as string)) {
        for (const segment of SEGMENT_JUNK) {
          const path = fill(route.path, { [name]: segment });
          const sample = route.method === "GET" ? undefined : samples.get(key(route));
          await expectRefused(await owner.client.request(route.method, path, sample?.()), `${route.method} ${path}`, [400, 404]);
          if (!ANONYMOUS_SEGMENT_JUNK.includes(segment)) continue;
          // Without a session: 401 where a session is needed, unless the path cannot even be decoded (400, before any route runs).
          const anonymous = await new HttpClient(server.url).request(route.method, path, sample?.());
          await expectRefused(anonymous, `anonymous ${route.method} ${path}`, route.signedIn ? [400, 401] : [400, 404]);
        }
      }
    }
  });

  it("answers anonymous callers 401 before reading their input, whatever it is", async () => {
    const anonymous = new HttpClient(server.url);
    for (const route of routes.filter((entry) => entry.signedIn)) {
      const what = `anonymous ${key(route)}`;
      const body = route.method === "GET" ? undefined : '{"broken": ';
      await expectRefused(await anonymous.request(route.method, `${fill(route.path)}?limit=-1&cursor=%00`, body), what, [401]);
      if (route.method === "GET") continue;
      await expectRefused(
        await anonymous.request(route.method, fill(route.path), "name=form", { "content-type": "application/x-www-form-urlencoded" }),
        `${what} with a form body`,
        [401],
      );
    }
  });
});
