import { and, eq } from "drizzle-orm";
import type { Runner } from "graphile-worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CommunityDto } from "../../../shared/api/communities.ts";
import type { DuesDto, PaymentDto } from "../../../shared/api/dues.ts";
import type { Page } from "../../../shared/api/pagination.ts";
import { emails, stripeEvents, subscriptions } from "../../../shared/schema/index.ts";
import { loadConfig } from "../../config/env.ts";
import { buildContainer, type Container } from "../../container.ts";
import { startJobRunner } from "../../jobs/runner.ts";
import { FakeStripe, type FakeEvent } from "../../test/fake-stripe.ts";
import { prepareDatabase } from "../../infra/db/migrate.ts";
import { captureLog, databaseUrl, startTestServer, testEnv, type TestServer } from "../../test/harness.ts";
import { ownDatabase, type OwnDatabase } from "../../test/services.ts";
import { insertCommunity, signedInUsers, type TestCommunity, type TestUser } from "../../test/factories.ts";
import { CONNECT_SECRET, PLATFORM_SECRET, stripeEnv } from "../../test/stripe-env.ts";
import { processStripeEventJob } from "./stripe-events.jobs.ts";
import { sweepStripeStateJob } from "./reconciliation.jobs.ts";
import { jobContext } from "../../jobs/context.ts";

/**
 * The payment flows end to end, as their users go through them: the owner and the members through the API, Stripe
 * (the test double) completing what the browser did on its pages and delivering its events, signed, to the webhook
 * endpoints, and the background worker's job runner applying them. On a database of its own: its runner takes every
 * Stripe event job it sees.
 */
describe("payment flows through the API and Stripe's webhooks", () => {
  let database: OwnDatabase;
  let stripe: FakeStripe;
  let server: TestServer;
  let worker: Container;
  let runner: Runner;
  let owner: TestUser;
  let member: TestUser;
  const log = captureLog();

  beforeAll(async () => {
    database = await ownDatabase(databaseUrl, "payment_flows");
    await prepareDatabase(database.url);
    stripe = await FakeStripe.start();
    const env = { ...stripeEnv(stripe), DATABASE_URL: database.url };
    server = await startTestServer(env);
    // Beside the server as in production: the same Redis, which carries its cache invalidations (a plan change) to it.
    worker = await buildContainer(loadConfig(testEnv(env)), "worker", log.logger);
    ({ runner } = await startJobRunner({
      pool: worker.pool,
      concurrency: 3,
      jobs: [processStripeEventJob],
      context: jobContext(worker, log.logger),
    }));
    [owner, member] = (await signedInUsers(server, ["Olga Owner", "Mia Member"])) as [TestUser, TestUser];
  });
  afterAll(async () => {
    await runner.stop();
    await worker.close();
    await server.close();
    await stripe.close();
    await database.drop();
  });

  /** Delivers every event Stripe recorded since `from` to the endpoint it belongs to, and waits until each is processed. */
  async function deliverSince(from: number): Promise<FakeEvent[]> {
    const events = stripe.events.slice(from);
    for (const event of events) {
      const endpoint = event.account ? "/api/webhooks/stripe/connect" : "/api/webhooks/stripe";
      const response = await stripe.deliver(`${server.url}${endpoint}`, event, event.account ? CONNECT_SECRET : PLATFORM_SECRET);
      expect(response.status).toBe(200);
    }
    for (const event of events) {
      await expect
        .poll(async () => (await server.container.db.select().from(stripeEvents).where(eq(stripeEvents.id, event.id)))[0]?.status, {
          timeout: 15_000,
          interval: 50,
        })
        .toBe("processed");
    }
    return events;
  }

  /** The Checkout session behind a URL the API gave, completed as the browser would on Stripe's page. */
  function pay(url: string): string {
    const session = [...stripe.sessions.values()].find((candidate) => candidate.url === url);
    if (!session) throw new Error(`no checkout session at ${url}`);
    stripe.completeCheckout(session.id);
    return session.id;
  }

  /** The emails of a template to an address (captured: this server has no SendGrid key). */
  const emailsTo = (user: TestUser, template: string) =>
    server.container.db
      .select()
      .from(emails)
      .where(and(eq(emails.toAddress, user.email), eq(emails.template, template)));

  const profile = async (community: TestCommunity) =>
    ((await (await owner.client.get(`/api/communities/${community.slug}`)).json()) as { community: CommunityDto }).community;

  it("moves the community to pro when the owner's checkout completes, past due on a failed renewal, back to free when it ends", async () => {
    const community = await insertCommunity(server, [{ user: owner, role: "owner" }], "free");
    const from = stripe.events.length;
    const { url } = (await (
      await owner.client.post(`/api/communities/${community.slug}/subscription/checkout`, { planId: "pro" })
    ).json()) as {
      url: string;
    };
    pay(url);
    await deliverSince(from);
    expect((await profile(community)).plan).toBe("pro");
    const [row] = await server.container.db.select().from(subscriptions).where(eq(subscriptions.communityId, community.id));
    expect(row).toMatchObject({ planId: "pro", status: "active" });

    const beforeFailure = stripe.events.length;
    stripe.failPayment(row!.stripeSubscriptionId!);
    const failure = await deliverSince(beforeFailure);
    expect(failure.map((event) => event.type)).toContain("invoice.payment_failed");
    expect((await server.container.db.select().from(subscriptions).where(eq(subscriptions.communityId, community.id)))[0]?.status).toBe(
      "past_due",
    );
    expect((await profile(community)).plan).toBe("pro");
    // Dunning: the owner is told, once, however often Stripe delivers the failure.
    const failed = failure.find((event) => event.type === "invoice.payment_failed")!;
    await stripe.deliver(`${server.url}/api/webhooks/stripe`, failed, PLATFORM_SECRET);
    const dunning = await emailsTo(owner, "payment_failed");
    expect(dunning).toHaveLength(1);
    expect(dunning[0]).toMatchObject({ status: "captured", payload: expect.objectContaining({ amountMinor: 1900, currency: "eur" }) });
    expect(dunning[0]?.bodyText).toContain(`/communities/${community.slug}/billing`);

    const beforeEnd = stripe.events.length;
    stripe.endSubscription(row!.stripeSubscriptionId!);
    await deliverSince(beforeEnd);
    expect((await profile(community)).plan).toBe("free");
  });

  it("takes a member's dues to the community's connected account once it is onboarded, and records them once", async () => {
    const community = await insertCommunity(
      server,
      [
        { user: owner, role: "owner" },
        { user: member, role: "member" },
      ],
      "free",
    );
    await owner.client.post(`/api/communities/${community.slug}/payouts/onboarding`);
    const [account] = [...stripe.accounts.values()].filter(
      (candidate) => (candidate.metadata as { community_id?: string }).community_id === community.id,
    );
    const beforeOnboarding = stripe.events.length;
    stripe.updateAccount(account!.id, { charges_enabled: true, payouts_enabled: true, details_submitted: true, currently_due: [] });
    await deliverSince(beforeOnboarding);
    expect(await (await owner.client.get(`/api/communities/${community.slug}/payouts`)).json()).toMatchObject({
      connected: true,
      chargesEnabled: true,
      payoutsEnabled: true,
    });
    await owner.client.request("PUT", `/api/communities/${community.slug}/dues`, { amountCents: 4000, currency: "eur", periodMonths: 12 });

    const beforePayment = stripe.events.length;
    const { url } = (await (await member.client.post(`/api/communities/${community.slug}/dues/checkout`)).json()) as { url: string };
    pay(url);
    const [completed] = await deliverSince(beforePayment);
    // Stripe delivers it again: nothing changes.
    await stripe.deliver(`${server.url}/api/webhooks/stripe`, completed!, PLATFORM_SECRET);

    const dues = (await (await member.client.get(`/api/communities/${community.slug}/dues`)).json()) as DuesDto;
    expect(new Date(dues.paidUntil!).getTime()).toBeGreaterThan(Date.now() + 364 * 86_400_000);
    const payments = (await (await owner.client.get(`/api/communities/${community.slug}/payments`)).json()) as Page<PaymentDto>;
    expect(payments.items).toEqual([
      expect.objectContaining({
        userId: member.id,
        amountCents: 4000,
        applicationFeeCents: 200,
        currency: "eur",
        paidUntil: dues.paidUntil,
      }),
    ]);
  });

  it("repairs at night what no event told: a subscription ended and an account disabled while their events were lost", async () => {
    const community = await insertCommunity(server, [{ user: owner, role: "owner" }], "free");
    const from = stripe.events.length;
    const { url } = (await (
      await owner.client.post(`/api/communities/${community.slug}/subscription/checkout`, { planId: "premium" })
    ).json()) as {
      url: string;
    };
    pay(url);
    await owner.client.post(`/api/communities/${community.slug}/payouts/onboarding`);
    const [account] = [...stripe.accounts.values()].filter(
      (candidate) => (candidate.metadata as { community_id?: string }).community_id === community.id,
    );
    stripe.updateAccount(account!.id, { charges_enabled: true });
    await deliverSince(from);
    expect((await profile(community)).plan).toBe("premium");
    const [row] = await server.container.db.select().from(subscriptions).where(eq(subscriptions.communityId, community.id));

    // Stripe changes both; their events never reach the product (nor, past 30 days, its reconciliation).
    stripe.endSubscription(row!.stripeSubscriptionId!);
    stripe.updateAccount(account!.id, { charges_enabled: false, currently_due: ["external_account"] });
    await sweepStripeStateJob.handle({}, jobContext(worker, log.logger));

    expect((await profile(community)).plan).toBe("free");
    expect(await (await owner.client.get(`/api/communities/${community.slug}/payouts`)).json()).toMatchObject({
      chargesEnabled: false,
      requirementsDue: ["external_account"],
    });
    expect(log.lines.filter((line) => line.msg === "stripe state swept").at(-1)).toMatchObject({ failed: 0 });
  });
});
