import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { subscriptions } from "../../../shared/schema/index.ts";
import { FakeStripe } from "../../test/fake-stripe.ts";
import { startTestServer, type TestServer } from "../../test/harness.ts";
import { insertCommunity, signedInUsers, type TestCommunity, type TestUser } from "../../test/factories.ts";

const PRICES = { STRIPE_PRICE_PRO: "price_pro_test", STRIPE_PRICE_PREMIUM: "price_premium_test" };

describe("the community's subscription, on the owner's side", () => {
  let stripe: FakeStripe;
  let server: TestServer;
  let owner: TestUser;
  let admin: TestUser;
  beforeAll(async () => {
    stripe = await FakeStripe.start();
    server = await startTestServer({ STRIPE_SECRET_KEY: "sk_test_billing", STRIPE_API_URL: stripe.url, ...PRICES });
    [owner, admin] = (await signedInUsers(server, ["Olga Owner", "Ada Admin"])) as [TestUser, TestUser];
  });
  afterAll(async () => {
    await server.close();
    await stripe.close();
  });

  const freeCommunity = () =>
    insertCommunity(
      server,
      [
        { user: owner, role: "owner" },
        { user: admin, role: "admin" },
      ],
      "free",
    );
  const checkout = (user: TestUser, community: TestCommunity, planId: unknown) =>
    user.client.post(`/api/communities/${community.slug}/subscription/checkout`, { planId });
  const subscriptionOf = async (community: TestCommunity) =>
    (await server.container.db.select().from(subscriptions).where(eq(subscriptions.communityId, community.id)))[0];

  it("sends the owner to a Checkout session for the plan's price, referring to the community, under one customer", async () => {
    const community = await freeCommunity();
    const response = await checkout(owner, community, "pro");
    expect(response.status).toBe(200);
    const { url } = (await response.json()) as { url: string };
    const session = [...stripe.sessions.values()].find((candidate) => candidate.url === url);
    expect(session).toMatchObject({ mode: "subscription", client_reference_id: community.id, price: "price_pro_test" });
    expect(session?.success_url).toMatch(new RegExp(`/communities/${community.slug}/billing`));
    const customer = (await subscriptionOf(community))?.stripeCustomerId;
    expect(session?.customer).toBe(customer);
    expect(stripe.customers.get(customer!)?.metadata).toEqual({ community_id: community.id });

    const again = await checkout(owner, community, "premium");
    expect(again.status).toBe(200);
    const secondUrl = ((await again.json()) as { url: string }).url;
    const second = [...stripe.sessions.values()].find((candidate) => candidate.url === secondUrl);
    expect(second).toMatchObject({ customer, price: "price_premium_test" });
  });

  it("makes one customer of checkouts started at the same moment", async () => {
    const community = await freeCommunity();
    const responses = await Promise.all(Array.from({ length: 5 }, () => checkout(owner, community, "pro")));
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200, 200]);
    const customers = [...stripe.customers.values()].filter(
      (customer) => (customer.metadata as { community_id?: string }).community_id === community.id,
    );
    expect(customers).toHaveLength(1);
    expect((await subscriptionOf(community))?.stripeCustomerId).toBe(customers[0]?.id);
  });

  it("is the owner's alone, refuses unknown plans, and a second subscription", async () => {
    const community = await freeCommunity();
    const byAdmin = await checkout(admin, community, "pro");
    expect(byAdmin.status).toBe(403);
    expect(await byAdmin.json()).toMatchObject({ error: { code: "forbidden" } });
    for (const planId of ["free", "gold", 3, null]) {
      const response = await checkout(owner, community, planId);
      expect(response.status, String(planId)).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: "validation_failed", details: [{ path: "planId" }] } });
    }
    await server.container.db.insert(subscriptions).values({ communityId: community.id, stripeCustomerId: "cus_x", status: "active" });
    const twice = await checkout(owner, community, "premium");
    expect(twice.status).toBe(409);
    expect(await twice.json()).toMatchObject({ error: { code: "conflict", reason: "subscribed" } });
  });

  it("opens the customer portal once the community has a customer, and says why not before", async () => {
    const community = await freeCommunity();
    const portal = () => owner.client.post(`/api/communities/${community.slug}/subscription/portal`);
    const before = await portal();
    expect(before.status).toBe(409);
    expect(await before.json()).toMatchObject({ error: { code: "conflict", reason: "no_subscription" } });
    await checkout(owner, community, "pro");
    const after = await portal();
    expect(after.status).toBe(200);
    expect(((await after.json()) as { url: string }).url).toMatch(/\/portal\/bps_/);
    expect((await admin.client.post(`/api/communities/${community.slug}/subscription/portal`)).status).toBe(403);
  });

  it("answers 503 with Retry-After while Stripe fails, and works again once it answers", async () => {
    const community = await freeCommunity();
    // The SDK retries twice: three failures in a row reach the caller.
    stripe.fail({ kind: 500, times: 3, path: "/v1/customers" });
    const failed = await checkout(owner, community, "pro");
    expect(failed.status).toBe(503);
    expect(failed.headers.get("retry-after")).toBe("5");
    expect(await failed.json()).toMatchObject({ error: { code: "unavailable" } });
    expect((await checkout(owner, community, "pro")).status).toBe(200);
  });
});

describe("a server without Stripe", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it("answers the owner 503 unavailable, saying payments are not configured", async () => {
    const [owner] = (await signedInUsers(server, ["Olga Owner"])) as [TestUser];
    const community = await insertCommunity(server, [{ user: owner, role: "owner" }], "free");
    const response = await owner.client.post(`/api/communities/${community.slug}/subscription/checkout`, { planId: "pro" });
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error: { code: "unavailable", message: "payments are not configured on this server" } });
  });
});
