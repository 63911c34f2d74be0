import { and, asc, eq, getTableColumns, sql, type SQL } from "drizzle-orm";
import type { Role } from "../../../shared/api/communities.ts";
import { events, memberships, type EventRow } from "../../../shared/schema/index.ts";
import type { Executor } from "../../infra/db/client.ts";
import { afterCursor, timestampKeyOf, type TimestampIdCursor } from "../../infra/db/keyset.ts";

export interface NewEvent {
  communityId: string;
  title: string;
  startsAt: Date;
  endsAt: Date | null;
  location: string | null;
  capacity: number | null;
}

/** An event row with its sort key as the cursor carries it. */
export interface ListedEvent extends EventRow {
  startsAtKey: string;
}

export interface EventWithRole {
  event: EventRow;
  role: Role;
}

/** An event without an end time is taken to last a day: it has ended a day after it started. */
export const EVENT_DEFAULT_DURATION = "1 day";

/** When an event has ended, in SQL: its end, or a day after its start. */
export function eventEnd(): SQL {
  return sql`coalesce(${events.endsAt}, ${events.startsAt} + ${EVENT_DEFAULT_DURATION}::interval)`;
}

export class EventsRepository {
  async insert(db: Executor, values: NewEvent): Promise<EventRow> {
    const [row] = await db.insert(events).values(values).returning();
    if (!row) throw new Error("insert into events returned no row");
    return row;
  }

  /** Events of the community starting in the calendar month (UTC) of `day`. */
  async countStartingInMonthOf(db: Executor, communityId: string, day: Date): Promise<number> {
    const month = sql`date_trunc('month', ${day.toISOString()}::timestamptz at time zone 'UTC') at time zone 'UTC'`;
    const [row] = await db
      .select({ count: sql<number>`count(*)::int` })
      .from(events)
      .where(
        and(
          eq(events.communityId, communityId),
          sql`${events.startsAt} >= ${month}`,
          sql`${events.startsAt} < ${month} + interval '1 month'`,
        ),
      );
    return row?.count ?? 0;
  }

  /** One page (plus one row, to know whether another follows) in (starts_at, id) order. */
  async listByCommunity(db: Executor, communityId: string, limit: number, after: TimestampIdCursor | undefined): Promise<ListedEvent[]> {
    return db
      .select({ ...getTableColumns(events), startsAtKey: timestampKeyOf(events.startsAt) })
      .from(events)
      .where(and(eq(events.communityId, communityId), after ? afterCursor(events.startsAt, events.id, after) : undefined))
      .orderBy(asc(events.startsAt), asc(events.id))
      .limit(limit + 1);
  }

  /**
   * The event with the caller's role in its community, in one query; undefined
   * for an unknown event and for an outsider alike. With `holdMembership`, the
   * membership row is locked (FOR SHARE) until the transaction ends, so it
   * cannot end while the caller acts on it.
   */
  async findForMember(db: Executor, eventId: string, userId: string, options: { holdMembership?: boolean } = {}) {
    const query = db
      .select({ event: events, role: memberships.role })
      .from(events)
      .innerJoin(memberships, and(eq(memberships.communityId, events.communityId), eq(memberships.userId, userId)))
      .where(eq(events.id, eventId))
      .limit(1);
    const [row] = options.holdMembership ? await query.for("share", { of: memberships }) : await query;
    return row satisfies EventWithRole | undefined;
  }
}
