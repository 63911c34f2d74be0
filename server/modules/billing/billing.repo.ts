import { and, eq, isNotNull, ne, or, sql } from "drizzle-orm";
import { communities, memberships, subscriptions, users, type SubscriptionRow } from "../../../shared/schema/index.ts";
import type { Executor } from "../../infra/db/client.ts";

export interface SubscriptionState {
  stripeCustomerId: string;
  stripeSubscriptionId: string;
  planId: string | null;
  status: string;
  currentPeriodEnd: Date | null;
  cancelAtPeriodEnd: boolean;
}

/**
 * The subscriptions table (one row per community that ever started a checkout or was named by a subscription) and the
 * community's plan that follows it.
 */
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

  /** The community's subscription row that holds this subscription or this customer, locked until the transaction ends. */
  async lockSubscriptionOf(db: Executor, subscriptionId: string, customerId: string): Promise<SubscriptionRow | undefined> {
    const [row] = await db
      .select()
      .from(subscriptions)
      .where(or(eq(subscriptions.stripeSubscriptionId, subscriptionId), eq(subscriptions.stripeCustomerId, customerId)))
      .limit(1)
      .for("update");
    return row;
  }

  async lockCommunitySubscription(db: Executor, communityId: string): Promise<SubscriptionRow | undefined> {
    const [row] = await db.select().from(subscriptions).where(eq(subscriptions.communityId, communityId)).limit(1).for("update");
    return row;
  }

  async communityExists(db: Executor, communityId: string): Promise<boolean> {
    const [row] = await db.select({ id: communities.id }).from(communities).where(eq(communities.id, communityId)).limit(1);
    return row !== undefined;
  }

  async saveSubscription(db: Executor, communityId: string, state: SubscriptionState): Promise<void> {
    await db
      .insert(subscriptions)
      .values({ communityId, ...state })
      .onConflictDoUpdate({
        target: subscriptions.communityId,
        set: { ...state, updatedAt: sql`now()` },
        // The same state applied again writes nothing: updated_at keeps the time of the last real change.
        setWhere: sql`(${subscriptions.stripeCustomerId}, ${subscriptions.stripeSubscriptionId}, ${subscriptions.planId},
          ${subscriptions.status}, ${subscriptions.currentPeriodEnd}, ${subscriptions.cancelAtPeriodEnd})
          is distinct from (excluded.stripe_customer_id, excluded.stripe_subscription_id, excluded.plan_id,
          excluded.status, excluded.current_period_end, excluded.cancel_at_period_end)`,
      });
  }

  async setCommunityPlan(db: Executor, communityId: string, planId: string): Promise<void> {
    await db
      .update(communities)
      .set({ plan: planId })
      .where(and(eq(communities.id, communityId), ne(communities.plan, planId)));
  }

  /** The owners of a community, who are told when its subscription's payment fails. */
  async owners(
    db: Executor,
    communityId: string,
  ): Promise<Array<{ userId: string; email: string; name: string; communityName: string; slug: string }>> {
    return db
      .select({ userId: users.id, email: users.email, name: users.name, communityName: communities.name, slug: communities.slug })
      .from(memberships)
      .innerJoin(users, eq(users.id, memberships.userId))
      .innerJoin(communities, eq(communities.id, memberships.communityId))
      .where(and(eq(memberships.communityId, communityId), eq(memberships.role, "owner")));
  }

  /** Every subscription known here, for the nightly comparison with Stripe. */
  async subscriptionIds(db: Executor): Promise<string[]> {
    const rows = await db
      .select({ id: subscriptions.stripeSubscriptionId })
      .from(subscriptions)
      .where(isNotNull(subscriptions.stripeSubscriptionId));
    return rows.flatMap((row) => (row.id ? [row.id] : []));
  }
}
