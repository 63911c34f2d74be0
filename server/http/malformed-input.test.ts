import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../test/harness.ts";
import { createCommunity, signedInUser, type SignedInUser } from "../test/factories.ts";

/**
 * Throws junk at every write route as a signed-in owner (so that validation,
 * not authorization, answers): every answer must be a deliberate 4xx in the
 * error shape. The test server itself fails the file on any 500.
 */
const JUNK_BODIES: Array<[label: string, body: string]> = [
  ["malformed JSON", '{"title": '],
  ["an array", "[1, 2, 3]"],
  ["a bare string", '"text"'],
  ["null", "null"],
  ["wrong types", JSON.stringify({ name: 42, title: ["x"], body: { a: 1 }, email: true, role: 7, startsAt: 12, capacity: "ten", code: 5 })],
  ["nulls", JSON.stringify({ name: null, title: null, body: null, email: null, role: null, startsAt: null, code: null })],
  [
    "oversized strings",
    JSON.stringify({ name: "n".repeat(5_000), title: "t".repeat(5_000), email: `${"e".repeat(300)}@x.io`, code: "c".repeat(500) }),
  ],
  ["prototype keys", '{"__proto__": {"admin": true}, "constructor": {"prototype": {}}}'],
];

const BAD_SEGMENTS = ["NOT_A_SLUG", "x".repeat(300), "%00", "a..b", "' or 1=1 --"];

describe("malformed input", () => {
  let server: TestServer;
  let owner: SignedInUser;
  let slug: string;
  beforeAll(async () => {
    server = await startTestServer();
    owner = await signedInUser(server.url, "Owner");
    slug = (await createCommunity(owner.client)).slug;
  });
  afterAll(() => server.close());

  const writeRoutes = () => [
    ["POST", "/api/auth/register"],
    ["POST", "/api/auth/login"],
    ["POST", "/api/auth/password-reset"],
    ["POST", "/api/auth/password-reset/confirm"],
    ["POST", "/api/auth/password"],
    ["POST", "/api/communities"],
    ["PATCH", `/api/communities/${slug}`],
    ["POST", `/api/communities/${slug}/members`],
    ["PATCH", `/api/communities/${slug}/members/${owner.user.id}`],
    ["POST", `/api/communities/${slug}/news`],
    ["POST", `/api/communities/${slug}/events`],
    ["POST", `/api/events/${randomUUID()}/checkins`],
  ];

  it("answers junk bodies on every write route with a 4xx in the error shape", async () => {
    for (const [method, path] of writeRoutes()) {
      for (const [label, body] of JUNK_BODIES) {
        const response = await owner.client.request(method as string, path as string, body);
        const answer = (await response.json()) as { error?: { code?: string } };
        expect([response.status, label, path]).toEqual([expect.toSatisfy((status: number) => status >= 400 && status < 500), label, path]);
        expect(answer.error?.code, `${method} ${path} with ${label}`).toEqual(expect.any(String));
      }
    }
  });

  it("answers malformed path segments and queries with 4xx", async () => {
    const paths = [
      ...BAD_SEGMENTS.flatMap((segment) => [
        `/api/communities/${encodeURIComponent(segment)}`,
        `/api/communities/${encodeURIComponent(segment)}/members`,
        `/api/communities/${slug}/members/${encodeURIComponent(segment)}`,
        `/api/events/${encodeURIComponent(segment)}`,
        `/api/tickets/${encodeURIComponent(segment)}`,
        `/api/tickets/${encodeURIComponent(segment)}/qr.svg`,
      ]),
      `/api/communities/${slug}/members?limit=-1`,
      `/api/communities/${slug}/members?limit=1.5`,
      `/api/communities/${slug}/members?cursor=%00%01`,
      `/api/communities/${slug}/members?q=${"q".repeat(500)}`,
      `/api/communities/${slug}/news?cursor=${Buffer.from('["not a date", "x"]').toString("base64url")}`,
      `/api/communities?limit=0`,
    ];
    for (const path of paths) {
      const response = await owner.client.get(path);
      expect([path, response.status]).toEqual([path, expect.toSatisfy((status: number) => status >= 400 && status < 500)]);
    }
  });
});
