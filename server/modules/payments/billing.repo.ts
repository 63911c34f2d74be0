import { and, eq, ne, or, sql } from "drizzle-orm";
import {
  communities,
  connectedAccounts,
  subscriptions,
  type ConnectedAccountRow,
  type SubscriptionRow,
} from "../../../shared/schema/index.ts";
import type { Executor } from "../../infra/db/client.ts";

export interface SubscriptionState {
  stripeCustomerId: string;
  stripeSubscriptionId: string;
  planId: string | null;
  status: string;
  currentPeriodEnd: Date | null;
  cancelAtPeriodEnd: boolean;
}

export interface AccountState {
  stripeAccountId: string;
  chargesEnabled: boolean;
  payoutsEnabled: boolean;
  detailsSubmitted: boolean;
  requirementsDue: string[];
}

/** The local rows Stripe's subscriptions and connected accounts are applied to. */
export class BillingRepository {
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

  async lockAccount(db: Executor, stripeAccountId: string): Promise<ConnectedAccountRow | undefined> {
    const [row] = await db
      .select()
      .from(connectedAccounts)
      .where(eq(connectedAccounts.stripeAccountId, stripeAccountId))
      .limit(1)
      .for("update");
    return row;
  }

  async saveAccount(db: Executor, communityId: string, state: AccountState): Promise<void> {
    await db
      .insert(connectedAccounts)
      .values({ communityId, ...state })
      .onConflictDoUpdate({
        target: connectedAccounts.communityId,
        set: { ...state, updatedAt: sql`now()` },
        setWhere: sql`(${connectedAccounts.stripeAccountId}, ${connectedAccounts.chargesEnabled}, ${connectedAccounts.payoutsEnabled},
          ${connectedAccounts.detailsSubmitted}, ${connectedAccounts.requirementsDue})
          is distinct from (excluded.stripe_account_id, excluded.charges_enabled, excluded.payouts_enabled,
          excluded.details_submitted, excluded.requirements_due)`,
      });
  }

  /** Every connected account known here, for reconciliation of their Connect events. */
  async accountIds(db: Executor): Promise<string[]> {
    const rows = await db.select({ id: connectedAccounts.stripeAccountId }).from(connectedAccounts);
    return rows.map((row) => row.id);
  }
}
