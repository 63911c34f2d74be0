import { randomInt } from "node:crypto";
import type Stripe from "stripe";
import type { FakeEvent, FakeStripe } from "./fake-stripe.ts";

/**
 * Stripe's deliveries as they come in a burst: histories of subscriptions and Connect accounts changing, delivered
 * shuffled, duplicated and concurrently. Used by the burst test of one cluster and by `npm run faults` on the local
 * deployment.
 */

function shuffle<T>(items: T[]): T[] {
  for (let index = items.length - 1; index > 0; index -= 1) {
    const other = randomInt(index + 1);
    [items[index], items[other]] = [items[other] as T, items[index] as T];
  }
  return items;
}

export interface Burst {
  /** In the order to send them. */
  deliveries: Delivery[];
  valid: Delivery[];
  duplicates: Delivery[];
  bad: Delivery[];
}

/**
 * Every event once, then duplicates of random ones up to `total`, and `badSignatures` more signed with a wrong secret,
 * all shuffled.
 */
export function burstDeliveries(events: FakeEvent[], secretOf: (event: FakeEvent) => string, total: number, badSignatures: number): Burst {
  const valid: Delivery[] = events.map((event) => ({ event, secret: secretOf(event), valid: true }));
  const duplicates = Array.from({ length: total - valid.length }, () => valid[randomInt(valid.length)] as Delivery);
  const bad = Array.from({ length: badSignatures }, () => ({
    ...(valid[randomInt(valid.length)] as Delivery),
    secret: "whsec_wrong",
    valid: false,
  }));
  return { deliveries: shuffle([...valid, ...duplicates, ...bad]), valid, duplicates, bad };
}

export interface Delivery {
  event: FakeEvent;
  secret: string;
  valid: boolean;
}

/** Runs the tasks with at most `limit` in flight, in order of the list. */
export async function inParallel<T>(items: T[], limit: number, task: (item: T, index: number) => Promise<void>): Promise<void> {
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

/** Subscriptions and accounts of each community, changed `rounds` times, one second apart (Stripe's `created` is in seconds). */
export async function stripeHistory(
  fake: FakeStripe,
  stripe: Stripe,
  communityIds: string[],
  rounds: number,
): Promise<{ subscriptions: string[]; accounts: string[] }> {
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
  for (let round = 0; round < rounds; round += 1) {
    fake.advanceClock(1);
    subscriptions.forEach((id, index) => (changes[(round + index) % changes.length] as (id: string, round: number) => unknown)(id, round));
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
