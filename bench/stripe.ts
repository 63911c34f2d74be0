// The bench's Stripe: the test double the product's SDK is pointed at, so that the background worker can fetch the
// objects that the webhook scenario's events are about, and the secret the events are signed with.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { createStripe } from "../server/infra/stripe.ts";
import { FakeStripe } from "../server/test/fake-stripe.ts";
import { createCommunity, register, SetupError } from "./fixtures.ts";
import type { LoadRequest } from "./load.ts";

const SECRET_KEY = "sk_test_bench";
const PRICES = { pro: "price_bench_pro", premium: "price_bench_premium" };
/** Events are spread over this many subscriptions: events of one object are processed one at a time. */
const SUBSCRIPTIONS = 20;
/** How long the processing of what was accepted may take before the bench reports it unfinished. */
const DRAIN_TIMEOUT_MS = 180_000;

export interface BenchStripe {
  fake: FakeStripe;
  webhookSecret: string;
  /** What the product needs to talk to it and to accept its webhooks. */
  env: Record<string, string>;
}

export async function startBenchStripe(): Promise<BenchStripe> {
  const fake = await FakeStripe.start();
  const webhookSecret = `whsec_${randomBytes(16).toString("hex")}`;
  return {
    fake,
    webhookSecret,
    env: {
      STRIPE_SECRET_KEY: SECRET_KEY,
      STRIPE_API_URL: fake.url,
      STRIPE_WEBHOOK_SECRET: webhookSecret,
      STRIPE_PRICE_PRO: PRICES.pro,
      STRIPE_PRICE_PREMIUM: PRICES.premium,
    },
  };
}

/** Subscriptions of communities made through the API, as their owners' checkouts would have made them. */
async function subscribedCommunities(baseUrl: string, stripe: BenchStripe): Promise<string[]> {
  const client = createStripe({ secretKey: SECRET_KEY, apiUrl: stripe.fake.url });
  const owner = await register(baseUrl, "Bench owner");
  const subscriptions: string[] = [];
  for (let index = 0; index < SUBSCRIPTIONS; index += 1) {
    const community = await createCommunity(baseUrl, owner, "invite");
    const session = await client.checkout.sessions.create({
      mode: "subscription",
      client_reference_id: community.id,
      line_items: [{ price: PRICES.pro, quantity: 1 }],
      subscription_data: { metadata: { community_id: community.id } },
    });
    const completed = stripe.fake.completeCheckout(session.id);
    subscriptions.push(String(completed.subscription));
  }
  return subscriptions;
}

/**
 * Each call makes the next delivery: a new event (`customer.subscription.updated` of one of the subscriptions, in
 * turn), signed as Stripe signs it.
 */
export async function webhookDeliveries(baseUrl: string, stripe: BenchStripe, cls: string): Promise<() => LoadRequest> {
  const subscriptions = await subscribedCommunities(baseUrl, stripe);
  let delivered = 0;
  return () => {
    const subscription = stripe.fake.subscriptions.get(subscriptions[delivered++ % subscriptions.length]!);
    if (!subscription) throw new SetupError("a subscription of the bench is missing from its Stripe");
    const payload = JSON.stringify(stripe.fake.record("customer.subscription.updated", subscription));
    return {
      class: cls,
      method: "POST",
      path: "/api/webhooks/stripe",
      headers: {
        "content-type": "application/json; charset=utf-8",
        "stripe-signature": stripe.fake.signature(payload, stripe.webhookSecret),
      },
      body: payload,
    };
  };
}

/** Webhook deliveries, one new event each; the notes say how long the background worker took to process them. */
export async function webhookLoad(
  baseUrl: string,
  databaseUrl: string,
  stripe: BenchStripe,
): Promise<{ next: () => LoadRequest; notes: () => Promise<string[]> }> {
  const next = await webhookDeliveries(baseUrl, stripe, "webhook");
  const since = new Date();
  return { next, notes: () => processingLag(databaseUrl, since) };
}

interface Lag {
  stored: number;
  unfinished: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
}

/** Waits for the events stored since `since` to be processed, then their time from receipt to processed. */
export async function processingLag(databaseUrl: string, since: Date): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const started = performance.now();
    let lag = await readLag(client, since);
    while (lag.unfinished > 0 && performance.now() - started < DRAIN_TIMEOUT_MS) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      lag = await readLag(client, since);
    }
    const drainedS = ((performance.now() - started) / 1000).toFixed(1);
    const ms = (value: number | null) => (value === null ? "n/a" : `${Math.round(value)} ms`);
    return [
      `${lag.stored.toLocaleString("en-US")} events stored; ${lag.unfinished === 0 ? `all processed ${drainedS} s after the run ended` : `${lag.unfinished} NOT PROCESSED after ${drainedS} s`}`,
      `from receipt to processed: p50 ${ms(lag.p50)}, p99 ${ms(lag.p99)}, max ${ms(lag.max)} (events of one subscription are processed one at a time, ${SUBSCRIPTIONS} subscriptions)`,
    ];
  } finally {
    await client.end();
  }
}

async function readLag(client: pg.Client, since: Date): Promise<Lag> {
  const { rows } = await client.query<Lag>(
    `select count(*)::int as stored,
            (count(*) filter (where status in ('pending', 'processing')))::int as unfinished,
            percentile_cont(0.5) within group (order by extract(epoch from processed_at - received_at) * 1000) as p50,
            percentile_cont(0.99) within group (order by extract(epoch from processed_at - received_at) * 1000) as p99,
            max(extract(epoch from processed_at - received_at) * 1000)::float8 as max
       from stripe_events where received_at >= $1`,
    [since],
  );
  const [row] = rows;
  if (!row) throw new SetupError("no answer counting stripe events");
  return row;
}
