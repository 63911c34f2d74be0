import { and, asc, eq, inArray, isNull, lt, or, sql } from "drizzle-orm";
import type { Role } from "../../../shared/api/communities.ts";
import { communities, events, memberships, tickets, users, type EventRow, type TicketRow } from "../../../shared/schema/index.ts";
import type { Executor } from "../../infra/db/client.ts";
import { afterCursor, timestampKeyOf, type TimestampIdCursor } from "../../infra/db/keyset.ts";
import { eventEnd } from "../events/events.repo.ts";

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
  /** Who a ticket is sent to, and the name of the community it admits to. */
  async holderAndCommunity(
    db: Executor,
    userId: string,
    communityId: string,
  ): Promise<{ email: string; name: string; communityName: string }> {
    const [row] = await db
      .select({ email: users.email, name: users.name, communityName: communities.name })
      .from(users)
      .innerJoin(communities, eq(communities.id, communityId))
      .where(eq(users.id, userId));
    if (!row) throw new Error("ticket holder or community not found");
    return row;
  }

  /**
   * The ticket, new or given back (a revoked ticket of someone who rejoined is
   * valid again), or undefined when the user already holds a valid one: the
   * unique (event_id, user_id) index decides.
   */
  async insertOrReinstate(db: Executor, eventId: string, userId: string): Promise<TicketRow | undefined> {
    const [row] = await db
      .insert(tickets)
      .values({ eventId, userId })
      .onConflictDoUpdate({ target: [tickets.eventId, tickets.userId], set: { status: "valid" }, setWhere: eq(tickets.status, "revoked") })
      .returning();
    return row;
  }

  /**
   * Counts one more seat unless the event is full, in one conditional update:
   * the row lock serializes concurrent buyers and each re-reads the count that
   * the previous one committed, so the event never oversells. False: sold out.
   */
  async takeSeat(db: Executor, eventId: string): Promise<boolean> {
    const rows = await db
      .update(events)
      .set({ ticketsIssued: sql`${events.ticketsIssued} + 1` })
      .where(and(eq(events.id, eventId), or(isNull(events.capacity), lt(events.ticketsIssued, events.capacity))))
      .returning({ id: events.id });
    return rows.length === 1;
  }

  async findWithViewer(db: Executor, ticketId: string, viewerId: string): Promise<TicketWithViewer | undefined> {
    const [row] = await db
      .select({ ticket: tickets, viewerRole: memberships.role })
      .from(tickets)
      .innerJoin(events, eq(events.id, tickets.eventId))
      .leftJoin(memberships, and(eq(memberships.communityId, events.communityId), eq(memberships.userId, viewerId)))
      .where(eq(tickets.id, ticketId))
      .limit(1);
    return row;
  }

  /**
   * The user's tickets in the order of their events (starts_at, then ticket
   * id), one page plus one row, only in communities the user still belongs to.
   */
  async listForMember(db: Executor, userId: string, limit: number, after: TimestampIdCursor | undefined): Promise<HeldTicket[]> {
    return db
      .select({ ticket: tickets, event: events, startsAtKey: timestampKeyOf(events.startsAt) })
      .from(tickets)
      .innerJoin(events, eq(events.id, tickets.eventId))
      .innerJoin(memberships, and(eq(memberships.communityId, events.communityId), eq(memberships.userId, userId)))
      .where(and(eq(tickets.userId, userId), after ? afterCursor(events.startsAt, tickets.id, after) : undefined))
      .orderBy(asc(events.startsAt), asc(tickets.id))
      .limit(limit + 1);
  }

  /**
   * Revokes the user's valid tickets to the community's events that have not
   * ended, and gives their seats back, in two statements of the caller's
   * transaction. Returns how many were revoked.
   */
  async revokeUpcoming(db: Executor, communityId: string, userId: string): Promise<number> {
    const revoked = await db
      .update(tickets)
      .set({ status: "revoked" })
      .where(
        and(
          eq(tickets.userId, userId),
          eq(tickets.status, "valid"),
          inArray(
            tickets.eventId,
            db
              .select({ id: events.id })
              .from(events)
              .where(and(eq(events.communityId, communityId), sql`${eventEnd()} > now()`)),
          ),
        ),
      )
      .returning({ eventId: tickets.eventId });
    if (revoked.length === 0) return 0;
    // One ticket per user and event (unique index): each event gives back one seat.
    await db
      .update(events)
      .set({ ticketsIssued: sql`${events.ticketsIssued} - 1` })
      .where(
        inArray(
          events.id,
          revoked.map((row) => row.eventId),
        ),
      );
    return revoked.length;
  }
}
