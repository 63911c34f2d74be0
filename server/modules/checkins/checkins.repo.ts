import { and, count, eq, lt, sql, type SQL } from "drizzle-orm";
import type { CheckinStats } from "../../../shared/api/events.ts";
import { checkinScans, checkins, events, memberships, tickets, users, type TicketRow } from "../../../shared/schema/index.ts";
import type { Executor } from "../../infra/db/client.ts";

/** A ticket as the door sees it: the row and the holder's name in the event's community. */
export interface DoorTicket {
  ticket: TicketRow;
  memberName: string;
}

/** One scanner's scan: the nonce is theirs at this event, bound to the code it was sent with. */
export interface ScanKey {
  eventId: string;
  scannedBy: string;
  nonce: string;
  codeHash: string;
}

export interface CheckinTime {
  checkedInAt: Date;
  /** Whether this call checked the ticket in (else it was checked in before, at `checkedInAt`). */
  first: boolean;
}

export interface StoredScan {
  codeHash: string;
  result: string | null;
  body: string | null;
}

const sameScan = (key: ScanKey) =>
  and(eq(checkinScans.eventId, key.eventId), eq(checkinScans.scannedBy, key.scannedBy), eq(checkinScans.nonce, key.nonce));

export class CheckinsRepository {
  /**
   * Claims the scanner's nonce at this event; false when it was claimed before.
   * A concurrent claim of the same nonce waits on the primary key until the
   * first transaction ends, so it then reads the first answer, complete.
   */
  async claimNonce(db: Executor, key: ScanKey): Promise<boolean> {
    const rows = await db
      .insert(checkinScans)
      .values(key)
      .onConflictDoNothing({ target: [checkinScans.eventId, checkinScans.scannedBy, checkinScans.nonce] })
      .returning({ nonce: checkinScans.nonce });
    return rows.length === 1;
  }

  async findScan(db: Executor, key: ScanKey): Promise<StoredScan | undefined> {
    const [row] = await db
      .select({ codeHash: checkinScans.codeHash, result: checkinScans.result, body: checkinScans.body })
      .from(checkinScans)
      .where(sameScan(key))
      .limit(1);
    return row;
  }

  async storeAnswer(db: Executor, key: ScanKey, answer: { result: string; body: string }): Promise<void> {
    await db.update(checkinScans).set(answer).where(sameScan(key));
  }

  async findTicket(db: Executor, ticketId: string, eventId: string): Promise<DoorTicket | undefined> {
    return this.doorTicket(db, and(eq(tickets.id, ticketId), eq(tickets.eventId, eventId)));
  }

  /** The member's own ticket to the event (one per member and event: a unique key). */
  async findTicketOf(db: Executor, eventId: string, userId: string): Promise<DoorTicket | undefined> {
    return this.doorTicket(db, and(eq(tickets.eventId, eventId), eq(tickets.userId, userId)));
  }

  private async doorTicket(db: Executor, which: SQL | undefined): Promise<DoorTicket | undefined> {
    const [row] = await db
      .select({ ticket: tickets, memberName: sql<string>`coalesce(${memberships.memberName}, ${users.name})` })
      .from(tickets)
      .innerJoin(events, eq(events.id, tickets.eventId))
      .innerJoin(users, eq(users.id, tickets.userId))
      .leftJoin(memberships, and(eq(memberships.communityId, events.communityId), eq(memberships.userId, tickets.userId)))
      .where(which)
      .limit(1);
    return row;
  }

  /**
   * Checks the ticket in, in one statement: this check-in's time (`first`), or
   * the time of the one before. The primary key on ticket_id decides, never a
   * read before the write. Undefined only when another scan of the ticket
   * committed during this statement, too late for its snapshot: read it then.
   */
  async checkIn(db: Executor, ticketId: string, eventId: string, scannedBy: string): Promise<CheckinTime | undefined> {
    const result = await db.execute<{ checked_in_at: Date | string; first: boolean }>(sql`
      with inserted as (
        insert into ${checkins} (ticket_id, event_id, scanned_by) values (${ticketId}, ${eventId}, ${scannedBy})
        on conflict (ticket_id) do nothing
        returning checked_in_at
      )
      select checked_in_at, true as first from inserted
      union all
      select checked_in_at, false from ${checkins} where ticket_id = ${ticketId} and not exists (select from inserted)`);
    const [row] = result.rows;
    return row && { checkedInAt: new Date(row.checked_in_at), first: row.first };
  }

  async firstCheckin(db: Executor, ticketId: string): Promise<Date | undefined> {
    const [row] = await db.select({ checkedInAt: checkins.checkedInAt }).from(checkins).where(eq(checkins.ticketId, ticketId)).limit(1);
    return row?.checkedInAt;
  }

  async stats(db: Executor, eventId: string): Promise<CheckinStats> {
    const [row] = await db
      .select({
        ticketsIssued: events.ticketsIssued,
        checkedIn: sql<number>`(${db.select({ n: count() }).from(checkins).where(eq(checkins.eventId, eventId))})`.mapWith(Number),
      })
      .from(events)
      .where(eq(events.id, eventId));
    return row ?? { ticketsIssued: 0, checkedIn: 0 };
  }

  /** Stored scan answers older than this: the retries they serve are long over. */
  async deleteScansOlderThan(db: Executor, ageS: number): Promise<number> {
    const deleted = await db
      .delete(checkinScans)
      .where(lt(checkinScans.createdAt, sql`now() - make_interval(secs => ${ageS}::int)`))
      .returning({ nonce: checkinScans.nonce });
    return deleted.length;
  }
}
