import { eq, sql } from "drizzle-orm";
import type { Runner } from "graphile-worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "../../../shared/api/pagination.ts";
import type { WebhookEvent, WebhookStats } from "../../../shared/api/payments.ts";
import {
  communities,
  connectedAccounts,
  stripeEvents,
  stripeObjectVersions,
  stripeSyncCheckpoints,
  subscriptions,
} from "../../../shared/schema/index.ts";
import { loadConfig } from "../../config/env.ts";
import { buildContainer, type Container } from "../../container.ts";
import { startJobRunner } from "../../jobs/runner.ts";
import { FakeStripe, type FakeEvent } from "../../test/fake-stripe.ts";
import { captureLog, startTestServer, testEnv, type TestServer } from "../../test/harness.ts";
import { insertCommunity } from "../../test/factories.ts";
import { CONNECT_SECRET, PLATFORM_SECRET, stripeEnv } from "../../test/stripe-env.ts";
import { reconcileStripeEventsJob } from "./reconciliation.jobs.ts";
import { processStripeEventJob, STRIPE_EVENT_MAX_ATTEMPTS } from "./stripe-events.jobs.ts";
import { jobContext } from "../../jobs/context.ts";

describe("the Stripe webhook inbox and its processing", () => {
  let fake: FakeStripe;
  let server: TestServer;
  let worker: Container;
  let runner: Runner | undefined;
  let db: Container["db"];
  const log = captureLog();

  beforeAll(async () => {
    fake = await FakeStripe.start();
    server = await startTestServer(stripeEnv(fake));
    db = server.container.db;
    worker = await buildContainer(loadConfig(testEnv({ ...stripeEnv(fake), REDIS_URL: undefined })), "worker", log.logger);
  });
  afterAll(async () => {
    await runner?.stop();
    await worker.close();
    await server.close();
    await fake.close();
  });

  const platform = () => `${server.url}/api/webhooks/stripe`;
  const connect = () => `${server.url}/api/webhooks/stripe/connect`;

  async function startWorker(): Promise<void> {
    const { stripe, config } = worker;
    if (!stripe || !config.stripe) throw new Error("the worker has no Stripe client");
    ({ runner } = await startJobRunner({
      pool: worker.pool,
      concurrency: 3,
      jobs: [processStripeEventJob],
      context: jobContext(worker, log.logger),
    }));
  }

  const storedEvent = async (id: string) => (await db.select().from(stripeEvents).where(eq(stripeEvents.id, id)))[0];
  const jobsOf = async (eventId: string) =>
    (
      await db.execute<{ count: number }>(
        sql`select count(*)::int as count from graphile_worker.jobs where key = ${`stripe-event:${eventId}`}`,
      )
    ).rows[0]?.count;
  /** Runs the event's waiting job now instead of after graphile-worker's backoff. */
  const jobIdsOf = (eventId: string) => sql`array(select id from graphile_worker.jobs where key = ${`stripe-event:${eventId}`})`;
  /** Runs the event's waiting job now instead of after graphile-worker's backoff (and makes the next one its last). */
  const runRetryNow = (eventId: string, maxAttempts?: number) =>
    db.execute(
      sql`select graphile_worker.reschedule_jobs(${jobIdsOf(eventId)}, run_at := now(), max_attempts := ${maxAttempts ?? null}::int)`,
    );
  const maxAttemptsOf = async (eventId: string) =>
    (await db.execute<{ max: number }>(sql`select max_attempts as max from graphile_worker.jobs where key = ${`stripe-event:${eventId}`}`))
      .rows[0]?.max;
  const waitForStatus = (eventId: string, status: string, timeout = 15_000) =>
    expect.poll(async () => (await storedEvent(eventId))?.status, { timeout, interval: 50 }).toBe(status);
  const subscriptionOf = async (communityId: string) =>
    (await db.select().from(subscriptions).where(eq(subscriptions.communityId, communityId)))[0];
  const planOf = async (communityId: string) =>
    (await db.select({ plan: communities.plan }).from(communities).where(eq(communities.id, communityId)))[0]?.plan;

  async function checkout(communityId: string, metadata: Record<string, string> = {}) {
    const stripe = worker.stripe as NonNullable<Container["stripe"]>;
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      client_reference_id: communityId,
      line_items: [{ price: "price_pro", quantity: 1 }],
      subscription_data: { metadata },
    });
    fake.completeCheckout(session.id);
    const [created, completed] = fake.events.slice(-2) as [FakeEvent, FakeEvent];
    return { created, completed, subscriptionId: created.data.object.id };
  }

  describe("the endpoints", () => {
    it("stores a signed event once, with its processing job, and answers 200 to every delivery of it", async () => {
      const community = await insertCommunity(server, []);
      const { created } = await checkout(community.id);
      for (let delivery = 0; delivery < 3; delivery += 1) {
        const response = await fake.deliver(platform(), created, PLATFORM_SECRET);
        expect([response.status, await response.json()]).toEqual([200, { received: true }]);
      }
      expect(await storedEvent(created.id)).toMatchObject({
        type: "customer.subscription.created",
        objectId: created.data.object.id,
        created: created.created,
        status: "pending",
        attempts: 0,
        account: null,
      });
      expect(await jobsOf(created.id)).toBe(1);
      // The payload is the event as Stripe sent it, every field kept.
      expect((await storedEvent(created.id))?.payload).toEqual(created);
    });

    it("refuses a wrong, missing or stale signature with 400, and the other endpoint's secret", async () => {
      const event = fake.record("customer.subscription.updated", { id: "sub_unsigned", object: "subscription" });
      const payload = JSON.stringify(event);
      const post = (url: string, signature?: string) =>
        fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", ...(signature ? { "stripe-signature": signature } : {}) },
          body: payload,
        });
      const refusals = [
        await post(platform(), fake.signature(payload, "whsec_wrong")),
        await post(platform()),
        await post(platform(), fake.signature(payload, PLATFORM_SECRET, Math.floor(Date.now() / 1000) - 301)),
        await post(connect(), fake.signature(payload, PLATFORM_SECRET)),
        await post(platform(), fake.signature(payload.replace("sub_unsigned", "sub_forged"), PLATFORM_SECRET)),
      ];
      for (const response of refusals) {
        expect(response.status).toBe(400);
        expect(((await response.json()) as { error: { code: string } }).error.code).toBe("validation_failed");
      }
      expect(await storedEvent(event.id)).toBeUndefined();
    });

    it("refuses with a 4xx what is not a Stripe event, even signed: garbage, an empty body, a body over 1 MB", async () => {
      const signed = (payload: string) =>
        fetch(platform(), {
          method: "POST",
          headers: { "content-type": "application/json", "stripe-signature": fake.signature(payload, PLATFORM_SECRET) },
          body: payload,
        });
      const answers = [
        await signed("not json"),
        await signed(""),
        await signed('{"id": "evt_1", "type": "customer.created"}'),
        await signed(JSON.stringify({ id: "evt_\u0000", type: "x", created: 1, data: { object: {} } })),
        await signed(JSON.stringify({ id: "evt_nul", type: "x", created: 1, data: { object: { name: "a\u0000b" } } })),
        await signed(JSON.stringify({ pad: "x".repeat(1_100_000) })),
      ];
      expect(answers.map((response) => response.status)).toEqual([400, 400, 400, 400, 400, 413]);
    });

    it("verifies Connect events with the Connect secret and keeps their account", async () => {
      const account = await (worker.stripe as NonNullable<Container["stripe"]>).accounts.create({ type: "express" });
      const event = fake.updateAccount(account.id, { charges_enabled: true });
      expect((await fake.deliver(connect(), event, CONNECT_SECRET)).status).toBe(200);
      expect(await storedEvent(event.id)).toMatchObject({ account: account.id, objectId: account.id, status: "pending" });
    });

    it("stores an event of a type the product does not act on as ignored, without a job", async () => {
      const event = fake.record("customer.created", { id: "cus_other", object: "customer" });
      expect((await fake.deliver(platform(), event, PLATFORM_SECRET)).status).toBe(200);
      expect(await storedEvent(event.id)).toMatchObject({ status: "ignored", processedAt: expect.any(Date) });
      expect(await jobsOf(event.id)).toBe(0);
    });

    it("answers 503 while its signing secret is not configured, so that Stripe retries later", async () => {
      const unconfigured = await startTestServer({ ...stripeEnv(fake), STRIPE_CONNECT_WEBHOOK_SECRET: undefined });
      try {
        const event = fake.record("account.updated", { id: "acct_x", object: "account" }, "acct_x");
        const response = await fake.deliver(`${unconfigured.url}/api/webhooks/stripe/connect`, event, CONNECT_SECRET);
        expect(response.status).toBe(503);
        expect(((await response.json()) as { error: { code: string } }).error.code).toBe("unavailable");
      } finally {
        await unconfigured.close();
      }
    });
  });

  describe("processing in the background worker", () => {
    beforeAll(startWorker);

    it("applies a subscription whatever the order of its events: the community's plan follows it", async () => {
      const community = await insertCommunity(server, []);
      const { created, completed, subscriptionId } = await checkout(community.id);
      // The checkout's event first: the subscription's own is older news of the same state.
      await fake.deliver(platform(), completed, PLATFORM_SECRET);
      await fake.deliver(platform(), created, PLATFORM_SECRET);
      await waitForStatus(completed.id, "processed");
      await waitForStatus(created.id, "processed");
      expect(await subscriptionOf(community.id)).toMatchObject({
        stripeSubscriptionId: subscriptionId,
        stripeCustomerId: completed.data.object.customer,
        planId: "pro",
        status: "active",
        cancelAtPeriodEnd: false,
        currentPeriodEnd: new Date(
          ((fake.subscriptions.get(subscriptionId)?.items as { data: Array<{ current_period_end: number }> }).data[0]?.current_period_end ??
            0) * 1000,
        ),
      });
      expect(await planOf(community.id)).toBe("pro");
    });

    it("keeps the plan while past due, follows cancel-at-period-end, and goes back to free when the subscription ends", async () => {
      const community = await insertCommunity(server, []);
      const { created, subscriptionId } = await checkout(community.id, { community_id: community.id });
      await fake.deliver(platform(), created, PLATFORM_SECRET);
      await waitForStatus(created.id, "processed");

      const steps: Array<[() => unknown, { status: string; cancelAtPeriodEnd: boolean }, string]> = [
        [() => fake.failPayment(subscriptionId), { status: "past_due", cancelAtPeriodEnd: false }, "pro"],
        [() => fake.renew(subscriptionId), { status: "active", cancelAtPeriodEnd: false }, "pro"],
        [() => fake.setCancelAtPeriodEnd(subscriptionId, true), { status: "active", cancelAtPeriodEnd: true }, "pro"],
        [() => fake.endSubscription(subscriptionId), { status: "canceled", cancelAtPeriodEnd: true }, "free"],
      ];
      for (const [change, state, plan] of steps) {
        const before = fake.events.length;
        fake.advanceClock(1);
        change();
        for (const event of fake.events.slice(before)) {
          await fake.deliver(platform(), event, PLATFORM_SECRET);
          await waitForStatus(event.id, "processed");
        }
        expect(await subscriptionOf(community.id)).toMatchObject(state);
        expect(await planOf(community.id)).toBe(plan);
      }
    });

    it("does not let a late event of an ended subscription replace the community's new one", async () => {
      const community = await insertCommunity(server, []);
      const first = await checkout(community.id, { community_id: community.id });
      fake.advanceClock(1);
      const ended = fake.endSubscription(first.subscriptionId);
      fake.advanceClock(1);
      const second = await checkout(community.id, { community_id: community.id });
      for (const event of [first.created, second.completed]) {
        await fake.deliver(platform(), event, PLATFORM_SECRET);
        await waitForStatus(event.id, "processed");
      }
      await fake.deliver(platform(), ended, PLATFORM_SECRET);
      await waitForStatus(ended.id, "processed");
      expect(await subscriptionOf(community.id)).toMatchObject({ stripeSubscriptionId: second.subscriptionId, status: "active" });
      expect(await planOf(community.id)).toBe("pro");
    });

    it("never lets an older event revert a newer one: it is marked processed without being applied", async () => {
      const community = await insertCommunity(server, []);
      const { created, subscriptionId } = await checkout(community.id, { community_id: community.id });
      fake.advanceClock(10);
      const newest = fake.renew(subscriptionId);
      await fake.deliver(platform(), newest, PLATFORM_SECRET);
      await waitForStatus(newest.id, "processed");
      await fake.deliver(platform(), created, PLATFORM_SECRET);
      await waitForStatus(created.id, "processed");
      const [version] = await db.select().from(stripeObjectVersions).where(eq(stripeObjectVersions.objectId, subscriptionId));
      expect(version).toMatchObject({ lastEventId: newest.id, lastEventCreated: newest.created });
      expect(log.lines).toContainEqual(expect.objectContaining({ msg: "stripe event processed", stripeEvent: created.id, applied: false }));
    });

    it("keeps an event that comes before anything links it to a community, and applies it once the checkout's arrives", async () => {
      const community = await insertCommunity(server, []);
      const { created, completed } = await checkout(community.id);
      await fake.deliver(platform(), created, PLATFORM_SECRET);
      await expect
        .poll(async () => await storedEvent(created.id), { timeout: 15_000, interval: 50 })
        .toMatchObject({ status: "pending", attempts: 1, lastError: expect.stringContaining("linked to no community") });
      await fake.deliver(platform(), completed, PLATFORM_SECRET);
      await waitForStatus(completed.id, "processed");
      await runRetryNow(created.id);
      await waitForStatus(created.id, "processed");
      expect(await storedEvent(created.id)).toMatchObject({ attempts: 2, lastError: null });
      expect(await planOf(community.id)).toBe("pro");
    });

    it("retries after Stripe fails, recording each failure, and marks the event failed after the last attempt", async () => {
      const community = await insertCommunity(server, []);
      const { created, subscriptionId } = await checkout(community.id, { community_id: community.id });
      // The SDK's own two retries fail too: the first run fails.
      fake.fail({ kind: 500, times: 3, path: `/v1/subscriptions/${subscriptionId}` });
      await fake.deliver(platform(), created, PLATFORM_SECRET);
      await expect
        .poll(async () => await storedEvent(created.id), { timeout: 15_000, interval: 50 })
        .toMatchObject({ status: "pending", attempts: 1, lastError: expect.stringContaining("unknown error") });
      await runRetryNow(created.id);
      await waitForStatus(created.id, "processed");

      const lost = fake.record("customer.subscription.updated", { id: "sub_gone", object: "subscription" });
      await fake.deliver(platform(), lost, PLATFORM_SECRET);
      await expect
        .poll(async () => await storedEvent(lost.id), { timeout: 15_000, interval: 50 })
        .toMatchObject({ status: "pending", attempts: 1 });
      expect(await maxAttemptsOf(lost.id)).toBe(STRIPE_EVENT_MAX_ATTEMPTS);
      // Its second attempt made the last one, instead of waiting through the backoff of all twelve.
      await runRetryNow(lost.id, 2);
      await waitForStatus(lost.id, "failed");
      expect(await storedEvent(lost.id)).toMatchObject({
        attempts: 2,
        lastError: expect.stringContaining("No such subscription: 'sub_gone'"),
      });
    });

    it("tries a rate-limited event again when Stripe says, not at the queue's backoff", async () => {
      const community = await insertCommunity(server, []);
      const { created, subscriptionId } = await checkout(community.id, { community_id: community.id });
      // 429 with Retry-After: 1 (the SDK retries a 429 only when Stripe says it should).
      fake.fail({ kind: 429, times: 1, path: `/v1/subscriptions/${subscriptionId}` });
      await fake.deliver(platform(), created, PLATFORM_SECRET);
      await expect
        .poll(
          () => log.lines.some((line) => line.msg === "stripe rate limited: event processed later" && line.stripeEvent === created.id),
          {
            timeout: 15_000,
            interval: 50,
          },
        )
        .toBe(true);
      const line = log.lines.find((candidate) => candidate.stripeEvent === created.id && candidate.retryAt !== undefined);
      expect(new Date(String(line?.retryAt)).getTime()).toBeLessThanOrEqual(Date.now() + 1_000);
      await waitForStatus(created.id, "processed");
      // One run failed, one applied: the rate limit counted as an attempt of the event, nothing more.
      expect(await storedEvent(created.id)).toMatchObject({ attempts: 2, lastError: null });
      expect(await planOf(community.id)).toBe("pro");
    });

    it("links a connected account through its metadata and follows its verification", async () => {
      const community = await insertCommunity(server, []);
      const stripe = worker.stripe as NonNullable<Container["stripe"]>;
      const account = await stripe.accounts.create({ type: "express", metadata: { community_id: community.id } });
      const accountRow = async () => (await db.select().from(connectedAccounts).where(eq(connectedAccounts.communityId, community.id)))[0];
      const first = fake.updateAccount(account.id, { details_submitted: true, currently_due: ["external_account"] });
      await fake.deliver(connect(), first, CONNECT_SECRET);
      await waitForStatus(first.id, "processed");
      expect(await accountRow()).toMatchObject({
        stripeAccountId: account.id,
        chargesEnabled: false,
        detailsSubmitted: true,
        requirementsDue: ["external_account"],
      });
      fake.advanceClock(1);
      const second = fake.updateAccount(account.id, { charges_enabled: true, payouts_enabled: true, currently_due: [] });
      await fake.deliver(connect(), second, CONNECT_SECRET);
      await waitForStatus(second.id, "processed");
      expect(await accountRow()).toMatchObject({ chargesEnabled: true, payoutsEnabled: true, requirementsDue: [] });
      expect(fake.requests.filter((request) => request.path === `/v1/accounts/${account.id}`).at(-1)?.account).toBe(account.id);
    });

    it("lets operators list, count and replay events; a replay of a processed event changes nothing", async () => {
      const community = await insertCommunity(server, []);
      const { created } = await checkout(community.id, { community_id: community.id });
      await fake.deliver(platform(), created, PLATFORM_SECRET);
      await waitForStatus(created.id, "processed");
      const before = await subscriptionOf(community.id);

      const replay = await fetch(`${server.url}/api/ops/webhooks/${created.id}/replay`, { method: "POST" });
      expect(replay.status).toBe(202);
      expect(await replay.json()).toMatchObject({ id: created.id, status: "pending" });
      await waitForStatus(created.id, "processed");
      expect(await subscriptionOf(community.id)).toEqual(before);
      expect(await storedEvent(created.id)).toMatchObject({ attempts: 2 });
      expect((await fetch(`${server.url}/api/ops/webhooks/evt_unknown/replay`, { method: "POST" })).status).toBe(404);

      const first = (await (await fetch(`${server.url}/api/ops/webhooks?status=processed&limit=1`)).json()) as Page<WebhookEvent>;
      expect(first.items).toEqual([expect.objectContaining({ status: "processed", processedAt: expect.any(String), lastError: null })]);
      const second = (await (
        await fetch(`${server.url}/api/ops/webhooks?status=processed&limit=1&cursor=${first.nextCursor}`)
      ).json()) as Page<WebhookEvent>;
      expect(second.items).toHaveLength(1);
      expect(Date.parse(second.items[0]?.receivedAt ?? "")).toBeLessThanOrEqual(Date.parse(first.items[0]?.receivedAt ?? ""));
      expect(second.items[0]?.id).not.toBe(first.items[0]?.id);

      const stats = (await (await fetch(`${server.url}/api/ops/webhooks/stats`)).json()) as WebhookStats;
      const [counted] = await db
        .select({ count: sql<number>`count(*)::int` })
        .from(stripeEvents)
        .where(eq(stripeEvents.status, "processed"));
      expect(stats.counts.processed).toBe(counted?.count);
      expect(Object.keys(stats.counts).sort()).toEqual(["failed", "ignored", "pending", "processed", "processing"]);
    });

    it("reconciles from Stripe's event list what was never delivered, the platform's and the connected accounts'", async () => {
      const community = await insertCommunity(server, []);
      const stripe = worker.stripe as NonNullable<Container["stripe"]>;
      const { created, subscriptionId } = await checkout(community.id, { community_id: community.id });
      await fake.deliver(platform(), created, PLATFORM_SECRET);
      await waitForStatus(created.id, "processed");
      const account = await stripe.accounts.create({ type: "express", metadata: { community_id: community.id } });
      const known = fake.updateAccount(account.id, {});
      await fake.deliver(connect(), known, CONNECT_SECRET);
      await waitForStatus(known.id, "processed");

      // Stripe changes both; neither event reaches the endpoint.
      fake.advanceClock(1);
      const undelivered = fake.failPayment(subscriptionId);
      const accountEvent = fake.updateAccount(account.id, { charges_enabled: true });
      const reconcile = () => reconcileStripeEventsJob.handle({}, jobContext(worker, log.logger));
      await reconcile();
      await waitForStatus(undelivered.id, "processed");
      await waitForStatus(accountEvent.id, "processed");
      expect(await subscriptionOf(community.id)).toMatchObject({ status: "past_due" });
      expect((await db.select().from(connectedAccounts).where(eq(connectedAccounts.communityId, community.id)))[0]).toMatchObject({
        chargesEnabled: true,
      });
      const [checkpoint] = await db
        .select()
        .from(stripeSyncCheckpoints)
        .where(eq(stripeSyncCheckpoints.name, `account:${account.id}`));
      expect(checkpoint?.lastEventCreated).toBe(accountEvent.created);

      const storedBefore = (await db.select({ count: sql<number>`count(*)::int` }).from(stripeEvents))[0]?.count;
      await reconcile();
      expect((await db.select({ count: sql<number>`count(*)::int` }).from(stripeEvents))[0]?.count).toBe(storedBefore);
      expect(log.lines.filter((line) => line.msg === "stripe events reconciled").at(-1)).toMatchObject({ stored: 0 });
    });
  });
});
