import { and, count, eq, sql } from "drizzle-orm";
import type { CheckinResponse, CheckinStats } from "../../../shared/api/events.ts";
import { checkinScans, checkins, events, memberships, tickets, users, type TicketRow } from "../../../shared/schema/index.ts";
import type { Database } from "../../infra/db/client.ts";

/** A ticket as the door sees it: the row and the holder's name in the event's community. */
export interface DoorTicket {
  ticket: TicketRow;
  memberName: string;
}

export interface StoredAnswer {
  httpStatus: number | null;
  response: CheckinResponse | null;
}

export class CheckinsRepository {
  constructor(private readonly db: Database) {}

  /** Runs `work` in one transaction, with a repository bound to it. */
  transaction<T>(work: (repo: CheckinsRepository) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => work(new CheckinsRepository(tx)));
  }

  /**
   * Claims the scan's nonce for this event; false when it was claimed before.
   * A concurrent claim of the same nonce waits on the primary key until the
   * first transaction ends, so it then reads the first answer, complete.
   */
  async claimNonce(eventId: string, nonce: string): Promise<boolean> {
    const rows = await this.db
      .insert(checkinScans)
      .values({ eventId, nonce })
      .onConflictDoNothing({ target: [checkinScans.eventId, checkinScans.nonce] })
      .returning({ nonce: checkinScans.nonce });
    return rows.length === 1;
  }

  async storedAnswer(eventId: string, nonce: string): Promise<StoredAnswer | undefined> {
    const [row] = await this.db
      .select({ httpStatus: checkinScans.httpStatus, response: checkinScans.response })
      .from(checkinScans)
      .where(and(eq(checkinScans.eventId, eventId), eq(checkinScans.nonce, nonce)))
      .limit(1);
    return row && { httpStatus: row.httpStatus, response: row.response as CheckinResponse | null };
  }

  async storeAnswer(eventId: string, nonce: string, httpStatus: number, response: CheckinResponse): Promise<void> {
    await this.db
      .update(checkinScans)
      .set({ httpStatus, response })
      .where(and(eq(checkinScans.eventId, eventId), eq(checkinScans.nonce, nonce)));
  }

  async findTicket(ticketId: string, eventId: string): Promise<DoorTicket | undefined> {
    const [row] = await this.db
      .select({ ticket: tickets, memberName: sql<string>`coalesce(${memberships.memberName}, ${users.name})` })
      .from(tickets)
      .innerJoin(events, eq(events.id, tickets.eventId))
      .innerJoin(users, eq(users.id, tickets.userId))
      .leftJoin(memberships, and(eq(memberships.communityId, events.communityId), eq(memberships.userId, tickets.userId)))
      .where(and(eq(tickets.id, ticketId), eq(tickets.eventId, eventId)))
      .limit(1);
    return row;
  }

  /**
   * The check-in time, or undefined when the ticket was already checked in:
   * the primary key on ticket_id decides, never a read before the write.
   */
  async insertCheckin(ticketId: string, eventId: string, scannedBy: string): Promise<Date | undefined> {
    const [row] = await this.db
      .insert(checkins)
      .values({ ticketId, eventId, scannedBy })
      .onConflictDoNothing({ target: checkins.ticketId })
      .returning({ checkedInAt: checkins.checkedInAt });
    return row?.checkedInAt;
  }

  async firstCheckin(ticketId: string): Promise<Date | undefined> {
    const [row] = await this.db
      .select({ checkedInAt: checkins.checkedInAt })
      .from(checkins)
      .where(eq(checkins.ticketId, ticketId))
      .limit(1);
    return row?.checkedInAt;
  }

  async stats(eventId: string): Promise<CheckinStats> {
    const [row] = await this.db
      .select({
        ticketsIssued: events.ticketsIssued,
        checkedIn: sql<number>`(${this.db.select({ n: count() }).from(checkins).where(eq(checkins.eventId, eventId))})`.mapWith(Number),
      })
      .from(events)
      .where(eq(events.id, eventId));
    return row ?? { ticketsIssued: 0, checkedIn: 0 };
  }
}
