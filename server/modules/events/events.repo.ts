import { and, asc, eq, getTableColumns } from "drizzle-orm";
import type { Role } from "../../../shared/api/communities.ts";
import { events, memberships, type EventRow } from "../../../shared/schema/index.ts";
import type { Database } from "../../infra/db/client.ts";
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

export class EventsRepository {
  constructor(private readonly db: Database) {}

  async insert(values: NewEvent): Promise<EventRow> {
    const [row] = await this.db.insert(events).values(values).returning();
    if (!row) throw new Error("insert into events returned no row");
    return row;
  }

  /** One page (plus one row, to know whether another follows) in (starts_at, id) order. */
  async listByCommunity(communityId: string, limit: number, after: TimestampIdCursor | undefined): Promise<ListedEvent[]> {
    return this.db
      .select({ ...getTableColumns(events), startsAtKey: timestampKeyOf(events.startsAt) })
      .from(events)
      .where(and(eq(events.communityId, communityId), after ? afterCursor(events.startsAt, events.id, after) : undefined))
      .orderBy(asc(events.startsAt), asc(events.id))
      .limit(limit + 1);
  }

  /** The event with the caller's role in its community, in one query; undefined for an unknown event and for an outsider alike. */
  async findForMember(eventId: string, userId: string): Promise<EventWithRole | undefined> {
    const [row] = await this.db
      .select({ event: events, role: memberships.role })
      .from(events)
      .innerJoin(memberships, and(eq(memberships.communityId, events.communityId), eq(memberships.userId, userId)))
      .where(eq(events.id, eventId))
      .limit(1);
    return row;
  }
}
