import { and, asc, eq, isNull, lt, or, sql } from "drizzle-orm";
import type { Role } from "../../../shared/api/communities.ts";
import { events, memberships, tickets, type EventRow, type TicketRow } from "../../../shared/schema/index.ts";
import type { Database } from "../../infra/db/client.ts";
import { afterCursor, timestampKeyOf, type TimestampIdCursor } from "../../infra/db/keyset.ts";

export interface TicketWithViewer {
  ticket: TicketRow;
  /** The viewer's role in the event's community, null when not a member. */
  viewerRole: Role | null;
}

export interface HeldTicket {
  ticket: TicketRow;
  event: EventRow;
  startsAtKey: string;
}

export class TicketsRepository {
  constructor(private readonly db: Database) {}

  /** Runs `work` in one transaction, with a repository bound to it. */
  transaction<T>(work: (repo: TicketsRepository) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => work(new TicketsRepository(tx)));
  }

  /** The ticket, or undefined when the user already holds one for the event: the unique (event_id, user_id) index decides. */
  async insertIfAbsent(eventId: string, userId: string): Promise<TicketRow | undefined> {
    const [row] = await this.db
      .insert(tickets)
      .values({ eventId, userId })
      .onConflictDoNothing({ target: [tickets.eventId, tickets.userId] })
      .returning();
    return row;
  }

  /**
   * Counts one more seat unless the event is full, in one conditional update:
   * the row lock serializes concurrent buyers and each re-reads the count that
   * the previous one committed, so the event never oversells. False: sold out.
   */
  async takeSeat(eventId: string): Promise<boolean> {
    const rows = await this.db
      .update(events)
      .set({ ticketsIssued: sql`${events.ticketsIssued} + 1` })
      .where(and(eq(events.id, eventId), or(isNull(events.capacity), lt(events.ticketsIssued, events.capacity))))
      .returning({ id: events.id });
    return rows.length === 1;
  }

  async findWithViewer(ticketId: string, viewerId: string): Promise<TicketWithViewer | undefined> {
    const [row] = await this.db
      .select({ ticket: tickets, viewerRole: memberships.role })
      .from(tickets)
      .innerJoin(events, eq(events.id, tickets.eventId))
      .leftJoin(memberships, and(eq(memberships.communityId, events.communityId), eq(memberships.userId, viewerId)))
      .where(eq(tickets.id, ticketId))
      .limit(1);
    return row;
  }

  /** The user's tickets in the order of their events (starts_at, then ticket id), one page plus one row. */
  async listForUser(userId: string, limit: number, after: TimestampIdCursor | undefined): Promise<HeldTicket[]> {
    return this.db
      .select({ ticket: tickets, event: events, startsAtKey: timestampKeyOf(events.startsAt) })
      .from(tickets)
      .innerJoin(events, eq(events.id, tickets.eventId))
      .where(and(eq(tickets.userId, userId), after ? afterCursor(events.startsAt, tickets.id, after) : undefined))
      .orderBy(asc(events.startsAt), asc(tickets.id))
      .limit(limit + 1);
  }
}
