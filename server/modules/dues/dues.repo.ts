import { and, desc, eq, gte, isNotNull, lt, sql } from "drizzle-orm";
import type { DuesSettingsBody } from "../../../shared/api/dues.ts";
import {
  communities,
  connectedAccounts,
  memberships,
  payments,
  users,
  type ConnectedAccountRow,
  type PaymentRow,
} from "../../../shared/schema/index.ts";
import type { Executor } from "../../infra/db/client.ts";
import { beforeCursor, timestampKeyOf, type TimestampIdCursor } from "../../infra/db/keyset.ts";

export interface NewPayment {
  communityId: string;
  userId: string;
  stripeCheckoutSessionId: string;
  stripePaymentIntentId: string | null;
  amountCents: number;
  applicationFeeCents: number;
  currency: string;
}

/** Who is to read a dues email, and about which community. */
export interface DuesRecipient {
  communityId: string;
  userId: string;
  email: string;
  name: string;
  communityName: string;
  slug: string;
  amountCents: number | null;
  currency: string;
  paidUntil: Date | null;
}

export interface AccountState {
  stripeAccountId: string;
  chargesEnabled: boolean;
  payoutsEnabled: boolean;
  detailsSubmitted: boolean;
  requirementsDue: string[];
}

/** Dues settings, the communities' connected accounts, dues paid until, and the payments received. */
export class DuesRepository {
  async findAccount(db: Executor, communityId: string): Promise<ConnectedAccountRow | undefined> {
    const [row] = await db.select().from(connectedAccounts).where(eq(connectedAccounts.communityId, communityId));
    return row;
  }

  /** Records the community's account; one recorded first wins. Returns the account kept. */
  async keepAccount(db: Executor, communityId: string, accountId: string): Promise<string> {
    await db.insert(connectedAccounts).values({ communityId, stripeAccountId: accountId }).onConflictDoNothing();
    const kept = await this.findAccount(db, communityId);
    if (!kept) throw new Error("no connected account kept for the community");
    return kept.stripeAccountId;
  }

  async setDues(db: Executor, communityId: string, settings: DuesSettingsBody): Promise<void> {
    await db
      .update(communities)
      .set({ duesAmountCents: settings.amountCents, duesCurrency: settings.currency, duesPeriodMonths: settings.periodMonths })
      .where(eq(communities.id, communityId));
  }

  async paidUntil(db: Executor, communityId: string, userId: string): Promise<Date | null> {
    const [row] = await db
      .select({ paidUntil: memberships.duesPaidUntil })
      .from(memberships)
      .where(and(eq(memberships.communityId, communityId), eq(memberships.userId, userId)));
    return row?.paidUntil ?? null;
  }

  /** The payment of a Checkout session, once: undefined when that session was recorded before. */
  async insertPayment(db: Executor, payment: NewPayment): Promise<PaymentRow | undefined> {
    const [row] = await db.insert(payments).values(payment).onConflictDoNothing({ target: payments.stripeCheckoutSessionId }).returning();
    return row;
  }

  /**
   * Extends the member's dues by the period, from the end of what was paid or from now if that has passed; undefined
   * when the payer is no longer a member (the payment is kept all the same).
   */
  async extendDues(db: Executor, communityId: string, userId: string, months: number): Promise<Date | undefined> {
    const [row] = await db
      .update(memberships)
      .set({ duesPaidUntil: sql`greatest(coalesce(${memberships.duesPaidUntil}, now()), now()) + make_interval(months => ${months}::int)` })
      .where(and(eq(memberships.communityId, communityId), eq(memberships.userId, userId)))
      .returning({ paidUntil: memberships.duesPaidUntil });
    return row?.paidUntil ?? undefined;
  }

  async setPaidUntil(db: Executor, paymentId: string, paidUntil: Date): Promise<void> {
    await db.update(payments).set({ paidUntil }).where(eq(payments.id, paymentId));
  }

  /** Newest first; one member's only when `userId` is given (their receipts). */
  async paymentsPage(db: Executor, communityId: string, limit: number, before: TimestampIdCursor | undefined, userId?: string) {
    return db
      .select({ payment: payments, createdAtKey: timestampKeyOf(payments.createdAt) })
      .from(payments)
      .where(
        and(
          eq(payments.communityId, communityId),
          userId === undefined ? undefined : eq(payments.userId, userId),
          before ? beforeCursor(payments.createdAt, payments.id, before) : undefined,
        ),
      )
      .orderBy(desc(payments.createdAt), desc(payments.id))
      .limit(limit + 1);
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

  /** The payer of dues and their community, to write them a receipt; undefined if either is gone. */
  async recipient(db: Executor, communityId: string, userId: string): Promise<DuesRecipient | undefined> {
    const [row] = await this.recipients(db).where(and(eq(memberships.communityId, communityId), eq(memberships.userId, userId)));
    return row;
  }

  /** Members whose paid dues run out in [from, to), in communities that ask dues. */
  async duesEndingBetween(db: Executor, from: Date, to: Date): Promise<DuesRecipient[]> {
    return this.recipients(db).where(
      and(gte(memberships.duesPaidUntil, from), lt(memberships.duesPaidUntil, to), isNotNull(communities.duesAmountCents)),
    );
  }

  private recipients(db: Executor) {
    return db
      .select({
        communityId: memberships.communityId,
        userId: memberships.userId,
        email: users.email,
        name: users.name,
        communityName: communities.name,
        slug: communities.slug,
        amountCents: communities.duesAmountCents,
        currency: communities.duesCurrency,
        paidUntil: memberships.duesPaidUntil,
      })
      .from(memberships)
      .innerJoin(users, eq(users.id, memberships.userId))
      .innerJoin(communities, eq(communities.id, memberships.communityId))
      .$dynamic();
  }
}
