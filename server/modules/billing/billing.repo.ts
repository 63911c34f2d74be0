import { eq, sql } from "drizzle-orm";
import { subscriptions, type SubscriptionRow } from "../../../shared/schema/index.ts";
import type { Executor } from "../../infra/db/client.ts";

/** The subscriptions table: one row per community that ever started a checkout. */
export class BillingRepository {
  async find(db: Executor, communityId: string): Promise<SubscriptionRow | undefined> {
    const [row] = await db.select().from(subscriptions).where(eq(subscriptions.communityId, communityId));
    return row;
  }

  /**
   * Records the community's Stripe customer; a customer already recorded wins (two checkouts started at once both
   * got the same customer from Stripe anyway, by its idempotency key). Returns the customer kept.
   */
  async keepCustomer(db: Executor, communityId: string, customerId: string): Promise<string> {
    const [row] = await db
      .insert(subscriptions)
      .values({ communityId, stripeCustomerId: customerId })
      .onConflictDoUpdate({
        target: subscriptions.communityId,
        set: { stripeCustomerId: sql`coalesce(${subscriptions.stripeCustomerId}, excluded.stripe_customer_id)`, updatedAt: sql`now()` },
      })
      .returning({ customerId: subscriptions.stripeCustomerId });
    if (!row?.customerId) throw new Error("no Stripe customer kept for the community");
    return row.customerId;
  }
}
