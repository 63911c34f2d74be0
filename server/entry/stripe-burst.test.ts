import { randomInt } from "node:crypto";
import pg from "pg";
import type Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStripe } from "../infra/stripe.ts";
import { databaseUrl } from "../test/harness.ts";
import { ownDatabase, type OwnDatabase } from "../test/services.ts";
import { FakeStripe, type FakeEvent } from "../test/fake-stripe.ts";
import { startCluster, waitFor, type ClusterProcess } from "../test/cluster-process.ts";

/**
 * A burst of Stripe deliveries on the real cluster, as Stripe sends them: duplicated, shuffled, concurrent, some with
 * a bad signature, while the background worker is killed (SIGKILL) once in the middle. Every valid event ends
 * processed exactly once, nothing is left pending, and every subscription and account holds its newest state. The
 * cluster runs on a database of its own, so no other test's worker takes its jobs.
 */

const SECRET = "whsec_burst_platform";
const CONNECT_SECRET = "whsec_burst_connect";
const COMMUNITIES = 20;
/** Changes after the checkout, per subscription and per account: 1,660 distinct events (a failed payment makes two). */
const ROUNDS = 36;
const DUPLICATE_SHARE = 0.2;
const DELIVERIES = 2_000;
const BAD_SIGNATURES = 60;
const CONCURRENCY = 32;

function shuffle<T>(items: T[]): T[] {
  for (let index = items.length - 1; index > 0; index -= 1) {
    const other = randomInt(index + 1);
    [items[index], items[other]] = [items[other] as T, items[index] as T];
  }
  return items;
}

interface Delivery {
  event: FakeEvent;
  secret: string;
  valid: boolean;
}

/** Runs the tasks with at most `limit` in flight, in order of the list. */
async function inParallel<T>(items: T[], limit: number, task: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      await task(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: limit }, lane));
}

describe("a burst of Stripe webhooks while the background worker is killed", () => {
  let database: OwnDatabase;
  let fake: FakeStripe;
  let stripe: Stripe;
  let cluster: ClusterProcess | undefined;
  /** One connection for the whole test: polling does not open one per check. */
  let db: pg.Client | undefined;
  const select = async <Row extends pg.QueryResultRow>(text: string): Promise<Row[]> => (await (db as pg.Client).query<Row>(text)).rows;

  beforeAll(async () => {
    database = await ownDatabase(databaseUrl, "stripe_burst");
    fake = await FakeStripe.start();
    stripe = createStripe({ secretKey: "sk_test_burst", apiUrl: fake.url });
    cluster = await startCluster({
      env: {
        DATABASE_URL: database.url,
        REDIS_URL: undefined,
        WEB_CONCURRENCY: "2",
        STRIPE_SECRET_KEY: "sk_test_burst",
        STRIPE_API_URL: fake.url,
        STRIPE_WEBHOOK_SECRET: SECRET,
        STRIPE_CONNECT_WEBHOOK_SECRET: CONNECT_SECRET,
        STRIPE_PRICE_PRO: "price_pro",
        STRIPE_PRICE_PREMIUM: "price_premium",
      },
    });
    await cluster.waitUntilServing();
    db = new pg.Client({ connectionString: database.url });
    await db.connect();
  }, 90_000);

  afterAll(async () => {
    await db?.end();
    await cluster?.kill();
    await fake?.close();
    await database?.drop();
  });

  /** Subscriptions and accounts of each community, changed ROUNDS times, one second apart (Stripe's `created` is in seconds). */
  async function stripeHistory(communityIds: string[]): Promise<{ subscriptions: string[]; accounts: string[] }> {
    const subscriptions: string[] = [];
    const accounts: string[] = [];
    for (const communityId of communityIds) {
      const session = await stripe.checkout.sessions.create({
        mode: "subscription",
        client_reference_id: communityId,
        line_items: [{ price: "price_pro", quantity: 1 }],
        subscription_data: { metadata: { community_id: communityId } },
      });
      subscriptions.push(fake.completeCheckout(session.id).subscription as string);
      accounts.push((await stripe.accounts.create({ type: "express", metadata: { community_id: communityId } })).id);
    }
    const changes = [
      (id: string) => fake.failPayment(id),
      (id: string) => fake.renew(id),
      (id: string, round: number) => fake.setCancelAtPeriodEnd(id, round % 3 === 0),
      (id: string, round: number) => fake.updateSubscription(id, { items: [{ price: round % 2 ? "price_premium" : "price_pro" }] }),
    ];
    for (let round = 0; round < ROUNDS; round += 1) {
      fake.advanceClock(1);
      subscriptions.forEach((id, index) =>
        (changes[(round + index) % changes.length] as (id: string, round: number) => unknown)(id, round),
      );
      accounts.forEach((id, index) =>
        fake.updateAccount(id, {
          charges_enabled: (round + index) % 2 === 0,
          payouts_enabled: round % 3 === 0,
          details_submitted: true,
          currently_due: round % 4 === 0 ? [] : [`field_${round}`],
        }),
      );
    }
    return { subscriptions, accounts };
  }

  it(
    "stores every valid event once, refuses the bad ones, processes each exactly once and leaves the newest states",
    { timeout: 120_000 },
    async () => {
      const running = cluster as ClusterProcess;
      const communityIds = (
        await select<{ id: string }>(
          `insert into communities (slug, name) select 'burst-' || n, 'Burst ' || n from generate_series(1, ${COMMUNITIES}) n returning id`,
        )
      ).map((row) => row.id);
      const { subscriptions, accounts } = await stripeHistory(communityIds);
      const distinct = fake.events;
      const secretOf = (event: FakeEvent) => (event.account ? CONNECT_SECRET : SECRET);
      const valid: Delivery[] = distinct.map((event) => ({ event, secret: secretOf(event), valid: true }));
      const duplicates = Array.from({ length: DELIVERIES - valid.length }, () => valid[randomInt(valid.length)] as Delivery);
      const bad = Array.from({ length: BAD_SIGNATURES }, () => ({
        ...(valid[randomInt(valid.length)] as Delivery),
        secret: "whsec_wrong",
        valid: false,
      }));
      const deliveries = shuffle([...valid, ...duplicates, ...bad]);
      expect(duplicates.length / valid.length).toBeGreaterThanOrEqual(DUPLICATE_SHARE);

      const statuses: number[] = [];
      const workerPid = running.readyPids("worker")[0] as number;
      const killAt = Math.floor(deliveries.length / 2);
      const startedAt = performance.now();
      await inParallel(deliveries, CONCURRENCY, async (delivery, index) => {
        if (index === killAt) process.kill(workerPid, "SIGKILL");
        const endpoint = `${running.url}/api/webhooks/stripe${delivery.event.account ? "/connect" : ""}`;
        statuses[index] = (await fake.deliver(endpoint, delivery.event, delivery.secret)).status;
      });
      const postedAt = performance.now();
      expect(deliveries.filter((delivery, index) => statuses[index] !== (delivery.valid ? 200 : 400))).toEqual([]);

      const unfinished = async () =>
        (
          await select<{ count: number }>(`select count(*)::int as count from stripe_events where status not in ('processed', 'ignored')`)
        )[0]?.count;
      const jobsLeft = async () => (await select<{ count: number }>(`select count(*)::int as count from graphile_worker.jobs`))[0]?.count;
      await waitFor(async () => (await unfinished()) === 0, 75_000, "every stored event to be processed");
      const drainedAt = performance.now();
      // An event is marked processed in its job's transaction; the queue deletes the job just after: give it that moment.
      await waitFor(async () => (await jobsLeft()) === 0, 5_000, "every job to be done and gone from the queue");

      const events = await select<{ id: string; status: string; attempts: number }>(`select id, status, attempts from stripe_events`);
      expect(events.map((event) => event.id).sort()).toEqual(distinct.map((event) => event.id).sort());
      expect(events.filter((event) => event.status !== "processed")).toEqual([]);
      // Each event's effect applied once: no event was processed twice, whatever was killed meanwhile.
      const processedLines = running.lines.flatMap((line) =>
        line.json?.msg === "stripe event processed" ? [line.json.stripeEvent as string] : [],
      );
      expect(processedLines.length - new Set(processedLines).size).toBe(0);
      expect(running.lines.some((line) => line.json?.msg === "child exit" && line.json.childPid === workerPid)).toBe(true);
      // Its replacement learned which runner died, to free the jobs it held at once rather than after graphile-worker's
      // four hours (no job left above shows they all ran).
      expect(running.lines.some((line) => line.json?.msg === "jobs locked by dead job runners will be released")).toBe(true);

      expect(running.stderrText()).toBe("");
      await expectNewestStates(subscriptions, accounts);
      const rerun = events.filter((event) => event.attempts > 1).length;
      console.info(
        `stripe burst: ${deliveries.length} deliveries (${valid.length} distinct events, ${duplicates.length} duplicates, ${bad.length} bad signatures) ` +
          `accepted at ${Math.round(deliveries.length / ((postedAt - startedAt) / 1000))}/s; drained ${Math.round(drainedAt - postedAt)} ms after the last ` +
          `delivery (${Math.round(drainedAt - startedAt)} ms in all); ${rerun} events run again after the worker was killed`,
      );
    },
  );

  async function expectNewestStates(subscriptionIds: string[], accountIds: string[]): Promise<void> {
    const rows = await select<{ id: string; status: string; plan: string; cancel: boolean; end: Date; community_plan: string }>(
      `select s.stripe_subscription_id as id, s.status, s.plan_id as plan, s.cancel_at_period_end as cancel,
              s.current_period_end as end, c.plan as community_plan
         from subscriptions s join communities c on c.id = s.community_id`,
    );
    const local = new Map(rows.map((row) => [row.id, row]));
    for (const id of subscriptionIds) {
      const remote = fake.subscriptions.get(id) as Stripe.Subscription & Record<string, unknown>;
      const item = remote.items.data[0] as Stripe.SubscriptionItem;
      const plan = item.price.id === "price_premium" ? "premium" : "pro";
      expect(local.get(id)).toEqual({
        id,
        status: remote.status,
        plan,
        cancel: remote.cancel_at_period_end,
        end: new Date(item.current_period_end * 1000),
        community_plan: remote.status === "active" ? plan : expect.any(String),
      });
    }
    const accountRows = await select<{ id: string; charges: boolean; payouts: boolean; due: string[] }>(
      `select stripe_account_id as id, charges_enabled as charges, payouts_enabled as payouts, requirements_due as due from connected_accounts`,
    );
    expect(accountRows.sort((a, b) => a.id.localeCompare(b.id))).toEqual(
      accountIds
        .map((id) => {
          const remote = fake.accounts.get(id) as Stripe.Account & Record<string, unknown>;
          return { id, charges: remote.charges_enabled, payouts: remote.payouts_enabled, due: remote.requirements?.currently_due };
        })
        .sort((a, b) => a.id.localeCompare(b.id)),
    );
    const versions = await select<{ object_id: string; last_event_created: string }>(
      `select object_id, last_event_created from stripe_object_versions`,
    );
    const newest = new Map<string, number>();
    for (const event of fake.events) {
      const objectId =
        event.type === "checkout.session.completed"
          ? (event.data.object.subscription as string)
          : event.type === "invoice.payment_failed"
            ? undefined
            : event.data.object.id;
      if (objectId) newest.set(objectId, Math.max(newest.get(objectId) ?? 0, event.created));
    }
    expect(Object.fromEntries(versions.map((row) => [row.object_id, Number(row.last_event_created)]))).toEqual(Object.fromEntries(newest));
  }
});
