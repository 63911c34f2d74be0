import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CommunityDto, MemberDto, MyCommunityDto, NewsDto, Page } from "../../../shared/api/index.ts";
import { startTestServer, type TestServer } from "../../test/harness.ts";
import { addMember, createCommunity, insertCommunity, signedInUser, signedInUsers, type TestUser } from "../../test/factories.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

async function json<T>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

describe("creating communities", () => {
  it("makes the creator its owner and generates a unique slug from the name", async () => {
    const { client } = await signedInUser(server, "Creator");
    const first = await createCommunity(client, { name: "Club de Tennis d'Évry", description: "Balle jaune" });
    expect(first).toMatchObject({ name: "Club de Tennis d'Évry", memberCount: 1, plan: "free", joinPolicy: "invite" });
    expect(first.slug).toMatch(/^club-de-tennis-d-evry(-\d+)?$/);
    const second = await createCommunity(client, { name: "Club de Tennis d'Évry" });
    expect(second.slug).not.toBe(first.slug);
    const members = await json<Page<MemberDto>>(await client.get(`/api/communities/${first.slug}/members`));
    expect(members.items).toEqual([expect.objectContaining({ name: "Creator", role: "owner" })]);
  });

  it("refuses a taken or malformed slug, naming the field", async () => {
    const { client } = await signedInUser(server);
    const taken = await createCommunity(client);
    const again = await client.post("/api/communities", { name: "Other", slug: taken.slug });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: { code: "conflict", message: "slug: already taken" } });
    const malformed = await client.post("/api/communities", { name: "Other", slug: "Not A Slug!" });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: { code: "validation_failed", details: [{ path: "slug" }] } });
  });

  it("requires a signed-in user", async () => {
    const anonymous = await fetch(`${server.url}/api/communities`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "Nope" }),
    });
    expect(anonymous.status).toBe(401);
  });
});

describe("a community's life", () => {
  let owner: TestUser;
  let admin: TestUser;
  let member: TestUser;
  let community: CommunityDto;
  beforeAll(async () => {
    [owner, admin, member] = await Promise.all([
      signedInUser(server, "Olga Owner"),
      signedInUser(server, "Adam Admin"),
      signedInUser(server, "Mia Member"),
    ]);
    community = await createCommunity(owner.client, { joinPolicy: "open" });
    await addMember(owner.client, community.slug, admin, "admin");
  });

  it("shows a public profile to anyone, 404 for unknown slugs", async () => {
    const profile = await fetch(`${server.url}/api/communities/${community.slug}`);
    expect(profile.status).toBe(200);
    expect(await profile.json()).toEqual({ community: expect.objectContaining({ id: community.id, slug: community.slug }) });
    expect((await fetch(`${server.url}/api/communities/no-such-community`)).status).toBe(404);
  });

  it("lets anyone join an open community once, counting members", async () => {
    const joined = await member.client.post(`/api/communities/${community.slug}/join`);
    expect(joined.status).toBe(201);
    expect(await joined.json()).toMatchObject({ membership: { communityId: community.id, userId: member.id, role: "member" } });
    expect((await member.client.post(`/api/communities/${community.slug}/join`)).status).toBe(409);
    const profile = await json<{ community: CommunityDto }>(await fetch(`${server.url}/api/communities/${community.slug}`));
    expect(profile.community.memberCount).toBe(3);
  });

  it("refuses joining a community that admits by invitation", async () => {
    const closed = await createCommunity(owner.client);
    const outsider = await signedInUser(server);
    const response = await outsider.client.post(`/api/communities/${closed.slug}/join`);
    expect(response.status).toBe(403);
  });

  it("lists the caller's communities with their role, paginated", async () => {
    const mine = await json<Page<MyCommunityDto>>(await admin.client.get("/api/communities?limit=1"));
    expect(mine.items).toEqual([expect.objectContaining({ slug: community.slug, role: "admin" })]);
    const creator = await signedInUser(server);
    const created = [await createCommunity(creator.client), await createCommunity(creator.client), await createCommunity(creator.client)];
    const firstPage = await json<Page<MyCommunityDto>>(await creator.client.get("/api/communities?limit=2"));
    expect(firstPage.items).toHaveLength(2);
    const secondPage = await json<Page<MyCommunityDto>>(
      await creator.client.get(`/api/communities?limit=2&cursor=${encodeURIComponent(firstPage.nextCursor ?? "")}`),
    );
    expect([...firstPage.items, ...secondPage.items].map((item) => item.id).sort()).toEqual(created.map((item) => item.id).sort());
    expect(secondPage.nextCursor).toBeNull();
  });

  it("lets admins update the community and refuses members", async () => {
    const updated = await admin.client.request("PATCH", `/api/communities/${community.slug}`, { description: "New text" });
    expect(updated.status).toBe(200);
    expect(await updated.json()).toMatchObject({ community: { description: "New text" } });
    expect((await member.client.request("PATCH", `/api/communities/${community.slug}`, { description: "x" })).status).toBe(403);
    const empty = await admin.client.request("PATCH", `/api/communities/${community.slug}`, {});
    expect(empty.status).toBe(400);
  });

  it("shows emails and dues to admins only and searches members by name", async () => {
    const asAdmin = await json<Page<MemberDto>>(await admin.client.get(`/api/communities/${community.slug}/members`));
    expect(asAdmin.items.every((item) => typeof item.email === "string" && item.duesPaidUntil === null)).toBe(true);
    const asMember = await json<Page<MemberDto>>(await member.client.get(`/api/communities/${community.slug}/members`));
    expect(asMember.items.map((item) => item.name)).toEqual(["Adam Admin", "Mia Member", "Olga Owner"]);
    expect(asMember.items.some((item) => "email" in item || "duesPaidUntil" in item)).toBe(false);
    const searched = await json<Page<MemberDto>>(await member.client.get(`/api/communities/${community.slug}/members?q=mia`));
    expect(searched.items.map((item) => item.name)).toEqual(["Mia Member"]);
    const wildcard = await json<Page<MemberDto>>(await member.client.get(`/api/communities/${community.slug}/members?q=%25`));
    expect(wildcard.items).toEqual([]);
  });

  it("pages members in name order without repeating or skipping anyone", async () => {
    const big = await createCommunity(owner.client);
    const people = await Promise.all(Array.from({ length: 7 }, (_, index) => signedInUser(server, `Same Name ${index % 2}`)));
    for (const person of people) await addMember(owner.client, big.slug, person);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const path: string = `/api/communities/${big.slug}/members?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const page: Page<MemberDto> = await json<Page<MemberDto>>(await owner.client.get(path));
      seen.push(...page.items.map((item) => item.userId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(8);
    expect(new Set(seen).size).toBe(8);
  });

  it("answers a tampered cursor or a bad limit with 400", async () => {
    expect((await member.client.get(`/api/communities/${community.slug}/members?cursor=garbage`)).status).toBe(400);
    expect((await member.client.get(`/api/communities/${community.slug}/members?limit=1000`)).status).toBe(400);
    expect((await member.client.get(`/api/communities/${community.slug}/members?limit=abc`)).status).toBe(400);
  });
});

describe("roles", () => {
  let owner: TestUser;
  let admin: TestUser;
  let member: TestUser;
  let slug: string;
  beforeAll(async () => {
    [owner, admin, member] = await Promise.all([signedInUser(server), signedInUser(server), signedInUser(server)]);
    slug = (await createCommunity(owner.client)).slug;
    await addMember(owner.client, slug, admin, "admin");
    await addMember(owner.client, slug, member, "member");
  });

  const setRole = (by: TestUser, target: TestUser, role: string) =>
    by.client.request("PATCH", `/api/communities/${slug}/members/${target.id}`, { role });

  it("lets admins change roles below owner, and only owners make owners", async () => {
    expect((await setRole(admin, member, "staff")).status).toBe(200);
    expect((await setRole(admin, member, "owner")).status).toBe(403);
    expect((await setRole(member, admin, "member")).status).toBe(403);
    expect((await setRole(admin, owner, "member")).status).toBe(403);
    expect((await setRole(owner, member, "member")).status).toBe(200);
  });

  it("keeps the last owner: no demotion, no removal, no leaving", async () => {
    const demote = await setRole(owner, owner, "admin");
    expect(demote.status).toBe(409);
    expect(await demote.json()).toMatchObject({ error: { code: "conflict", message: expect.stringMatching(/at least one owner/) } });
    expect((await owner.client.request("DELETE", `/api/communities/${slug}/members/${owner.id}`)).status).toBe(409);
    expect((await setRole(owner, admin, "owner")).status).toBe(200);
    expect((await setRole(owner, owner, "admin")).status).toBe(200);
  });

  it("adds registered users by email, refusing unknown emails and duplicates", async () => {
    const newcomer = await signedInUser(server);
    const admins = await json<Page<MemberDto>>(await admin.client.get(`/api/communities/${slug}/members`));
    const adminRole = admins.items.find((item) => item.userId === admin.id)?.role;
    const by = adminRole === "owner" ? admin : owner;
    expect((await by.client.post(`/api/communities/${slug}/members`, { email: newcomer.email })).status).toBe(201);
    expect((await by.client.post(`/api/communities/${slug}/members`, { email: newcomer.email })).status).toBe(409);
    const unknown = await by.client.post(`/api/communities/${slug}/members`, { email: "nobody@example.test" });
    expect(unknown.status).toBe(404);
    expect((await member.client.post(`/api/communities/${slug}/members`, { email: newcomer.email })).status).toBe(403);
  });

  it("tells each member their own role, fresh after a change, and outsiders 404", async () => {
    const roleOf = async (user: TestUser) => {
      const response = await user.client.get(`/api/communities/${slug}/membership`);
      return response.status === 200 ? ((await response.json()) as { membership: { role: string } }).membership.role : response.status;
    };
    const joiner = await signedInUser(server);
    expect(await roleOf(joiner)).toBe(404);
    await addMember(owner.client, slug, joiner);
    expect(await roleOf(joiner)).toBe("member");
    expect((await setRole(owner, joiner, "staff")).status).toBe(200);
    expect(await roleOf(joiner)).toBe("staff");
    expect((await owner.client.request("DELETE", `/api/communities/${slug}/members/${joiner.id}`)).status).toBe(204);
    expect(await roleOf(joiner)).toBe(404);
    expect((await fetch(`${server.url}/api/communities/${slug}/membership`)).status).toBe(401);
  });

  it("lets members leave and admins remove members", async () => {
    const leaver = await signedInUser(server);
    const removed = await signedInUser(server);
    await addMember(owner.client, slug, leaver);
    await addMember(owner.client, slug, removed);
    expect((await leaver.client.request("DELETE", `/api/communities/${slug}/members/${leaver.id}`)).status).toBe(204);
    expect((await member.client.request("DELETE", `/api/communities/${slug}/members/${removed.id}`)).status).toBe(403);
    expect((await owner.client.request("DELETE", `/api/communities/${slug}/members/${removed.id}`)).status).toBe(204);
    expect((await removed.client.get(`/api/communities/${slug}/members`)).status).toBe(404);
    expect((await owner.client.request("DELETE", `/api/communities/${slug}/members/${removed.id}`)).status).toBe(404);
  });
});

describe("news", () => {
  it("is written by admins, read by members newest first, paginated", async () => {
    const owner = await signedInUser(server);
    const member = await signedInUser(server);
    const { slug } = await createCommunity(owner.client);
    await addMember(owner.client, slug, member);
    for (const title of ["first", "second", "third"]) {
      const published = await owner.client.post(`/api/communities/${slug}/news`, { title, body: `${title} body` });
      expect(published.status).toBe(201);
    }
    expect((await member.client.post(`/api/communities/${slug}/news`, { title: "x", body: "y" })).status).toBe(403);
    const invalid = await owner.client.post(`/api/communities/${slug}/news`, { title: "", body: "y" });
    expect(await invalid.json()).toMatchObject({ error: { code: "validation_failed", message: "title: required" } });
    const page = await json<Page<NewsDto>>(await member.client.get(`/api/communities/${slug}/news?limit=2`));
    expect(page.items.map((item) => item.title)).toEqual(["third", "second"]);
    const rest = await json<Page<NewsDto>>(await member.client.get(`/api/communities/${slug}/news?cursor=${page.nextCursor}`));
    expect(rest.items.map((item) => item.title)).toEqual(["first"]);
  });
});

describe("roles decided inside the transaction", () => {
  const RACES = 30;
  let first: TestUser;
  let second: TestUser;
  beforeAll(async () => {
    [first, second] = (await signedInUsers(server, ["Ann Owner", "Ben Owner"])) as [TestUser, TestUser];
  });

  /** A community whose only owners are the two racers. */
  const twoOwners = () =>
    insertCommunity(server, [
      { user: first, role: "owner" },
      { user: second, role: "owner" },
    ]);

  async function roles(slug: string): Promise<Record<string, string>> {
    const page = await json<Page<MemberDto>>(
      await first.client
        .get(`/api/communities/${slug}/members`)
        .then(async (response) => (response.status === 200 ? response : second.client.get(`/api/communities/${slug}/members`))),
    );
    return Object.fromEntries(page.items.map((item) => [item.name, item.role]));
  }

  /** The races run side by side, each in a community of its own. */
  const races = (race: () => Promise<void>) => Promise.all(Array.from({ length: RACES }, race));

  const demote = (by: TestUser, slug: string, target: TestUser) =>
    by.client.request("PATCH", `/api/communities/${slug}/members/${target.id}`, { role: "admin" });
  const remove = (by: TestUser, slug: string, target: TestUser) =>
    by.client.request("DELETE", `/api/communities/${slug}/members/${target.id}`);

  it(`two owners demoting each other at the same moment: one wins, the other is refused (${RACES} races)`, async () => {
    await races(async () => {
      const { slug } = await twoOwners();
      const statuses = (await Promise.all([demote(first, slug, second), demote(second, slug, first)])).map((response) => response.status);
      expect(statuses.sort()).toEqual([200, 403]);
      expect(Object.values(await roles(slug)).sort()).toEqual(["admin", "owner"]);
    });
  });

  it(`an owner demoting the other while that one removes the first: never both, never no owner (${RACES} races)`, async () => {
    await races(async () => {
      const { slug } = await twoOwners();
      const [demoted, removed] = await Promise.all([demote(first, slug, second), remove(second, slug, first)]);
      const outcome = demoted.status === 200 ? "demoted" : removed.status === 204 ? "removed" : "neither";
      expect([outcome, demoted.status, removed.status]).toEqual(outcome === "demoted" ? ["demoted", 200, 403] : ["removed", 404, 204]);
      const left = await roles(slug);
      expect(Object.values(left)).toContain("owner");
      expect(left).toEqual(outcome === "demoted" ? { "Ann Owner": "owner", "Ben Owner": "admin" } : { "Ben Owner": "owner" });
    });
  });
});
