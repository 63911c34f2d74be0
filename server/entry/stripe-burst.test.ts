import pg from "pg";
import type Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStripe } from "../infra/stripe.ts";
import { databaseUrl } from "../test/harness.ts";
import { ownDatabase, type OwnDatabase } from "../test/services.ts";
import { FakeStripe, type FakeEvent } from "../test/fake-stripe.ts";
import { burstDeliveries, inParallel, stripeHistory } from "../test/stripe-burst.ts";
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
      const { subscriptions, accounts } = await stripeHistory(fake, stripe, communityIds, ROUNDS);
      const distinct = fake.events;
      const secretOf = (event: FakeEvent) => (event.account ? CONNECT_SECRET : SECRET);
      const { deliveries, valid, duplicates, bad } = burstDeliveries(distinct, secretOf, DELIVERIES, BAD_SIGNATURES);
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
