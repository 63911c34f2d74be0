import { randomUUID } from "node:crypto";
import type { Page, PageQuery } from "../../../shared/api/pagination.ts";
import type { EventRow, TicketRow } from "../../../shared/schema/index.ts";
import { AppError } from "../../core/app-error.ts";
import { decodeCursor, toPage } from "../../core/pagination.ts";
import type { Database, Transaction } from "../../infra/db/client.ts";
import { timestampIdCursor } from "../../infra/db/keyset.ts";
import { can } from "../communities/index.ts";
import type { EventAccess } from "../events/index.ts";
import type { EmailOutbox } from "../emails/index.ts";
import type { TicketCodes } from "./ticket-code.ts";
import type { TicketsRepository } from "./tickets.repo.ts";

const TICKETS_CURSOR = timestampIdCursor("tickets");

export class TicketsService {
  constructor(
    private readonly db: Database,
    private readonly repo: TicketsRepository,
    private readonly events: EventAccess,
    private readonly codes: TicketCodes,
    private readonly outbox: EmailOutbox,
  ) {}

  /**
   * A ticket for the caller. The membership is held for the transaction (a
   * removal at the same moment waits, then revokes this ticket too); the ticket
   * and the seat count commit together or not at all: a duplicate is refused by
   * the unique index, a full event by the conditional update, and either rolls
   * the other back, and so does the email carrying the ticket's QR code.
   */
  async take(eventId: string, userId: string): Promise<TicketRow> {
    return this.db.transaction(async (tx) => {
      const { event } = await this.events.heldMemberOf(tx, eventId, userId);
      const ticket = await this.repo.insertOrReinstate(tx, eventId, userId);
      if (!ticket) throw new AppError("conflict", "you already hold a ticket for this event");
      if (!(await this.repo.takeSeat(tx, eventId))) throw new AppError("conflict", "event: sold out", { extra: { reason: "sold_out" } });
      await this.sendTicket(tx, ticket, event);
      return ticket;
    });
  }

  private async sendTicket(tx: Transaction, ticket: TicketRow, event: EventRow): Promise<void> {
    const holder = await this.repo.holderAndCommunity(tx, ticket.userId, event.communityId);
    await this.outbox.queue(tx, {
      to: holder.email,
      template: "ticket_issued",
      payload: {
        name: holder.name,
        communityName: holder.communityName,
        eventTitle: event.title,
        startsAt: event.startsAt.toISOString(),
        location: event.location ?? undefined,
        ticketId: ticket.id,
        code: this.codes.sign({ ticketId: ticket.id, eventId: ticket.eventId }),
      },
      // Each take is its own email (a ticket given back after a revocation is sent again); a repeated take is a 409
      // before it gets here.
      dedupeKey: `${ticket.id}:${randomUUID()}`,
    });
  }

  /** The holder, or staff and above of the event's community, while a member of it; anyone else gets 404, as if it did not exist. */
  async get(ticketId: string, userId: string): Promise<TicketRow> {
    const found = await this.repo.findWithViewer(this.db, ticketId, userId);
    const visible =
      found?.viewerRole !== null &&
      found?.viewerRole !== undefined &&
      (found.ticket.userId === userId || can(found.viewerRole, "viewTicketsOfOthers"));
    if (!visible) throw AppError.notFound("ticket");
    return found.ticket;
  }

  /** Only the holder, while a member, gets the QR code: whoever has it can get in. A revoked ticket has none. */
  async admittingTicket(ticketId: string, userId: string): Promise<TicketRow> {
    const found = await this.repo.findWithViewer(this.db, ticketId, userId);
    if (!found || found.viewerRole === null || found.ticket.userId !== userId) throw AppError.notFound("ticket");
    if (found.ticket.status === "revoked") {
      throw new AppError("conflict", "ticket: revoked, it no longer admits anyone", { extra: { reason: "revoked" } });
    }
    return found.ticket;
  }

  async listMine(userId: string, page: PageQuery): Promise<Page<{ ticket: TicketRow; event: EventRow }>> {
    const rows = await this.repo.listForMember(this.db, userId, page.limit, decodeCursor(TICKETS_CURSOR, page.cursor));
    return toPage(rows, page.limit, TICKETS_CURSOR, (row) => [row.startsAtKey, row.ticket.id] as const);
  }

  /** When a membership ends: its tickets to events that have not ended stop admitting, and their seats are free again. */
  async revokeUpcoming(tx: Transaction, membership: { communityId: string; userId: string }): Promise<void> {
    await this.repo.revokeUpcoming(tx, membership.communityId, membership.userId);
  }
}
