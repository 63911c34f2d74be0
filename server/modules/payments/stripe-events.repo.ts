import { and, count, desc, eq, getTableColumns, inArray, sql, type SQL } from "drizzle-orm";
import { union } from "drizzle-orm/pg-core";
import {
  communities,
  connectedAccounts,
  stripeEvents,
  subscriptions,
  stripeObjectVersions,
  stripeSyncCheckpoints,
  type StripeEventRow,
  type StripeEventStatus,
} from "../../../shared/schema/index.ts";
import type { Executor } from "../../infra/db/client.ts";
import { timestampKeyOf, type TimestampIdCursor } from "../../infra/db/keyset.ts";

export interface NewStripeEvent {
  id: string;
  account: string | null;
  type: string;
  objectId: string | null;
  created: number;
  payload: unknown;
  status: "pending" | "ignored";
}

/** Longest error text kept on an event: enough to read the cause, never a whole response body. */
const ERROR_TEXT_MAX = 1_000;

export class StripeEventsRepository {
  /** Stores the event once: false when an event with this id was stored before (a duplicate delivery). */
  async insert(db: Executor, event: NewStripeEvent): Promise<boolean> {
    const rows = await db
      .insert(stripeEvents)
      .values({ ...event, processedAt: event.status === "ignored" ? sql`now()` : null })
      .onConflictDoNothing({ target: stripeEvents.id })
      .returning({ id: stripeEvents.id });
    return rows.length === 1;
  }

  async find(db: Executor, id: string): Promise<StripeEventRow | undefined> {
    const [row] = await db.select().from(stripeEvents).where(eq(stripeEvents.id, id)).limit(1);
    return row;
  }

  /** A run starts: counted, and visible as `processing` while it lasts. */
  async startRun(db: Executor, id: string): Promise<void> {
    await db
      .update(stripeEvents)
      .set({ status: "processing", attempts: sql`${stripeEvents.attempts} + 1` })
      .where(eq(stripeEvents.id, id));
  }

  async finish(db: Executor, id: string, status: "processed" | "ignored"): Promise<void> {
    await db
      .update(stripeEvents)
      .set({ status, processedAt: sql`now()`, lastError: null })
      .where(eq(stripeEvents.id, id));
  }

  /** A run failed: back to `pending` for the next attempt, or `failed` after the last one. */
  async recordFailure(db: Executor, id: string, error: string, final: boolean): Promise<void> {
    await db
      .update(stripeEvents)
      .set({ status: final ? "failed" : "pending", lastError: error.slice(0, ERROR_TEXT_MAX) })
      .where(eq(stripeEvents.id, id));
  }

  /** Queued again by an operator. */
  async markPending(db: Executor, id: string): Promise<StripeEventRow | undefined> {
    const [row] = await db.update(stripeEvents).set({ status: "pending", processedAt: null }).where(eq(stripeEvents.id, id)).returning();
    return row;
  }

  /**
   * Records that the event of `created` is applied to the object, unless a newer one was: true when it may apply (equal
   * applies, the state being re-fetched anyway). The upsert locks the object's version row until the transaction ends.
   */
  async claimVersion(db: Executor, objectId: string, created: number, eventId: string): Promise<boolean> {
    const rows = await db
      .insert(stripeObjectVersions)
      .values({ objectId, lastEventCreated: created, lastEventId: eventId })
      .onConflictDoUpdate({
        target: stripeObjectVersions.objectId,
        set: { lastEventCreated: created, lastEventId: eventId, updatedAt: sql`now()` },
        setWhere: sql`${stripeObjectVersions.lastEventCreated} <= ${created}`,
      })
      .returning({ objectId: stripeObjectVersions.objectId });
    return rows.length === 1;
  }

  /** The slug of the community whose subscription or connected account this Stripe object is (its profile shows them). */
  async communitySlugOf(db: Executor, objectId: string): Promise<string | undefined> {
    const owners = union(
      db.select({ id: subscriptions.communityId }).from(subscriptions).where(eq(subscriptions.stripeSubscriptionId, objectId)),
      db.select({ id: connectedAccounts.communityId }).from(connectedAccounts).where(eq(connectedAccounts.stripeAccountId, objectId)),
    );
    const rows = await db.select({ slug: communities.slug }).from(communities).where(inArray(communities.id, owners)).limit(1);
    return rows[0]?.slug;
  }

  /** Newest first, optionally of one status, after the cursor. */
  async list(
    db: Executor,
    filter: { status?: StripeEventStatus; after?: TimestampIdCursor; limit: number },
  ): Promise<Array<StripeEventRow & { cursorAt: string }>> {
    const conditions: SQL[] = [];
    if (filter.status) conditions.push(eq(stripeEvents.status, filter.status));
    if (filter.after) {
      conditions.push(sql`(${stripeEvents.receivedAt}, ${stripeEvents.id}) < (${filter.after[0]}::timestamptz, ${filter.after[1]})`);
    }
    return db
      .select({ ...getTableColumns(stripeEvents), cursorAt: timestampKeyOf(stripeEvents.receivedAt) })
      .from(stripeEvents)
      .where(and(...conditions))
      .orderBy(desc(stripeEvents.receivedAt), desc(stripeEvents.id))
      .limit(filter.limit);
  }

  async countByStatus(db: Executor): Promise<Partial<Record<StripeEventStatus, number>>> {
    const rows = await db.select({ status: stripeEvents.status, count: count() }).from(stripeEvents).groupBy(stripeEvents.status);
    return Object.fromEntries(rows.map((row) => [row.status, row.count]));
  }

  /** Events received in the last hour that failed for good (the index on status and receipt time serves it). */
  async countFailedInLastHour(db: Executor): Promise<number> {
    const [row] = await db
      .select({ count: count() })
      .from(stripeEvents)
      .where(and(eq(stripeEvents.status, "failed"), sql`${stripeEvents.receivedAt} > now() - interval '1 hour'`));
    return row?.count ?? 0;
  }

  async checkpoint(db: Executor, name: string): Promise<number | undefined> {
    const [row] = await db.select().from(stripeSyncCheckpoints).where(eq(stripeSyncCheckpoints.name, name)).limit(1);
    return row?.lastEventCreated;
  }

  /** Moves the checkpoint forward only: two reconciliations that overlap never move it back. */
  async moveCheckpoint(db: Executor, name: string, created: number): Promise<void> {
    await db
      .insert(stripeSyncCheckpoints)
      .values({ name, lastEventCreated: created })
      .onConflictDoUpdate({
        target: stripeSyncCheckpoints.name,
        set: { lastEventCreated: sql`greatest(${stripeSyncCheckpoints.lastEventCreated}, ${created})`, updatedAt: sql`now()` },
      });
  }
}
