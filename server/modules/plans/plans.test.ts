import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { communities } from "../../../shared/schema/index.ts";
import type { PlanDto } from "../../../shared/api/plans.ts";
import { HttpClient, startTestServer, type TestServer } from "../../test/harness.ts";
import {
  addMembers,
  insertCommunity,
  insertUsers,
  names,
  putOnPlan,
  signedInUser,
  signedInUsers,
  type TestCommunity,
  type TestUser,
} from "../../test/factories.ts";

const FREE_MEMBERS = 50;
const FREE_EVENTS_PER_MONTH = 4;

describe("plans", () => {
  let server: TestServer;
  let owner: TestUser;
  beforeAll(async () => {
    server = await startTestServer();
    owner = await signedInUser(server, "Olga Owner");
  });
  afterAll(() => server.close());

  /** A community on the free plan with its owner and `members - 1` others. */
  async function freeCommunity(members: number, joinPolicy: "open" | "invite" = "open"): Promise<TestCommunity> {
    const community = await insertCommunity(server, [{ user: owner, role: "owner" }], "free");
    await server.container.db.update(communities).set({ joinPolicy }).where(eq(communities.id, community.id));
    if (members > 1) await addMembers(server, community, await insertUsers(server, names("Member", members - 1)));
    return community;
  }

  const createEventIn = (community: TestCommunity, startsAt: string) =>
    owner.client.post(`/api/communities/${community.slug}/events`, { title: "Meeting", startsAt });

  it("lists the plans to anyone, cheapest first, with their prices and limits", async () => {
    const response = await new HttpClient(server.url).get("/api/plans");
    expect(response.status).toBe(200);
    const plans = (await response.json()) as PlanDto[];
    expect(plans.map((plan) => plan.id)).toEqual(["free", "pro", "premium"]);
    expect(plans[0]).toEqual({
      id: "free",
      name: "Free",
      priceMonthlyCents: 0,
      currency: "eur",
      limits: { members: FREE_MEMBERS, eventsPerMonth: FREE_EVENTS_PER_MONTH, requestsPerMinute: expect.any(Number) },
    });
    expect(plans[2]?.limits).toMatchObject({ members: null, eventsPerMonth: null });
    expect(plans[1]!.priceMonthlyCents).toBeGreaterThan(0);
  });

  it("lets browsers and shared caches keep the plans, and answers 304 to a copy still current", async () => {
    const first = await fetch(`${server.url}/api/plans`);
    expect(first.headers.get("cache-control")).toBe("public, max-age=3600, stale-while-revalidate=86400");
    const etag = first.headers.get("etag");
    expect(etag).toBeTruthy();
    // As a browser revalidates (fetch would add `no-cache` to a conditional request, which forbids a 304).
    const again = await fetch(`${server.url}/api/plans`, { headers: { "if-none-match": etag!, "cache-control": "max-age=0" } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
  });

  it("lets caches keep a community's public profile a minute, and gives a changed profile another ETag", async () => {
    const community = await freeCommunity(1);
    const profile = (etag?: string) =>
      fetch(`${server.url}/api/communities/${community.slug}`, {
        headers: etag ? { "if-none-match": etag, "cache-control": "max-age=0" } : {},
      });
    const first = await profile();
    expect(first.headers.get("cache-control")).toBe("public, max-age=60, stale-while-revalidate=300");
    const etag = first.headers.get("etag")!;
    expect((await profile(etag)).status).toBe(304);
    await owner.client.request("PATCH", `/api/communities/${community.slug}`, { description: "Changed" });
    const changed = await profile(etag);
    expect(changed.status).toBe(200);
    expect(changed.headers.get("etag")).not.toBe(etag);
    // An unknown community is no answer to keep.
    const missing = await fetch(`${server.url}/api/communities/no-such-club-here`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get("cache-control") ?? "").not.toContain("public");
  });

  it("refuses the member past the plan's limit, by joining or by invitation, with 403 plan_limit naming the plan that lifts it", async () => {
    const community = await freeCommunity(FREE_MEMBERS);
    const joiner = await signedInUser(server, "Late Joiner");
    const joined = await joiner.client.post(`/api/communities/${community.slug}/join`);
    expect(joined.status).toBe(403);
    expect(await joined.json()).toMatchObject({
      error: {
        code: "plan_limit",
        limit: "members",
        allowed: FREE_MEMBERS,
        plan: "free",
        upgradeTo: "pro",
        message: expect.stringMatching(/^members: /),
      },
    });
    const added = await owner.client.post(`/api/communities/${community.slug}/members`, { email: joiner.email });
    expect(added.status).toBe(403);
    expect(await added.json()).toMatchObject({ error: { code: "plan_limit", limit: "members" } });

    await putOnPlan(server, community, "pro");
    expect((await joiner.client.post(`/api/communities/${community.slug}/join`)).status).toBe(201);
  });

  it("admits exactly as many of 10 people joining at once as there are places left", async () => {
    const community = await freeCommunity(FREE_MEMBERS - 2);
    const joiners = await signedInUsers(server, names("Racer", 10));
    const statuses = await Promise.all(
      joiners.map(async (joiner) => (await joiner.client.post(`/api/communities/${community.slug}/join`)).status),
    );
    expect(statuses.filter((status) => status === 201)).toHaveLength(2);
    expect(statuses.filter((status) => status === 403)).toHaveLength(8);
    const [row] = await server.container.db
      .select({ memberCount: communities.memberCount })
      .from(communities)
      .where(eq(communities.id, community.id));
    expect(row?.memberCount).toBe(FREE_MEMBERS);
  });

  it("counts events by the month they start in, and lets exactly the plan's number through when they are created at once", async () => {
    const community = await freeCommunity(1);
    const march = (day: number) => `2031-03-${String(day).padStart(2, "0")}T18:00:00Z`;
    const statuses = await Promise.all(
      Array.from({ length: 10 }, async (_, index) => (await createEventIn(community, march(index + 1))).status),
    );
    expect(statuses.filter((status) => status === 201)).toHaveLength(FREE_EVENTS_PER_MONTH);
    const refused = await createEventIn(community, march(28));
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({
      error: { code: "plan_limit", limit: "eventsPerMonth", allowed: FREE_EVENTS_PER_MONTH, plan: "free", upgradeTo: "pro" },
    });
    // The last instant of February and the first of April are other months.
    expect((await createEventIn(community, "2031-02-28T23:59:59Z")).status).toBe(201);
    expect((await createEventIn(community, "2031-04-01T00:00:00Z")).status).toBe(201);

    await putOnPlan(server, community, "premium");
    expect((await createEventIn(community, march(29))).status).toBe(201);
  });

  it("checks the caller's role before the plan: a member learns nothing of the limits", async () => {
    const community = await freeCommunity(FREE_MEMBERS, "invite");
    const member = await signedInUser(server, "Plain Member");
    await putOnPlan(server, community, "pro");
    await addMembers(server, community, [member]);
    await putOnPlan(server, community, "free");
    const response = await member.client.post(`/api/communities/${community.slug}/events`, {
      title: "Mine",
      startsAt: "2031-05-01T10:00:00Z",
    });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: { code: "forbidden" } });
  });
});
