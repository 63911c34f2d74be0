import type { PageQuery } from "../../../shared/api/pagination.ts";
import type { EventRow, TicketRow } from "../../../shared/schema/index.ts";
import { AppError } from "../../core/app-error.ts";
import { decodeCursor, toPage } from "../../http/cursor.ts";
import { can } from "../communities/policy.ts";
import type { EventAccess } from "../events/access.ts";
import type { RowPage } from "../events/events.service.ts";
import { timestampIdCursor } from "../../infra/db/keyset.ts";
import type { TicketsRepository } from "./tickets.repo.ts";

export class TicketsService {
  constructor(
    private readonly repo: TicketsRepository,
    private readonly events: EventAccess,
  ) {}

  /**
   * A ticket for the caller. The ticket insert and the seat count commit
   * together or not at all: a duplicate is refused by the unique index, a full
   * event by the conditional update, and either rolls the other back.
   */
  async take(eventId: string, userId: string): Promise<TicketRow> {
    await this.events.authorize(eventId, userId, "read");
    return this.repo.transaction(async (tx) => {
      const ticket = await tx.insertIfAbsent(eventId, userId);
      if (!ticket) throw new AppError("conflict", "you already hold a ticket for this event");
      if (!(await tx.takeSeat(eventId))) throw new AppError("conflict", "event: sold out", { extra: { reason: "sold_out" } });
      return ticket;
    });
  }

  /** The holder, or staff and above of the event's community; anyone else gets 404, as if it did not exist. */
  async get(ticketId: string, userId: string): Promise<TicketRow> {
    const found = await this.repo.findWithViewer(ticketId, userId);
    const visible =
      found !== undefined &&
      (found.ticket.userId === userId || (found.viewerRole !== null && can(found.viewerRole, "viewTicketsOfOthers")));
    if (!visible) throw AppError.notFound("ticket");
    return found.ticket;
  }

  /** Only the holder sees the QR code: whoever has it can get in. */
  async getOwn(ticketId: string, userId: string): Promise<TicketRow> {
    const found = await this.repo.findWithViewer(ticketId, userId);
    if (!found || found.ticket.userId !== userId) throw AppError.notFound("ticket");
    return found.ticket;
  }

  async listMine(userId: string, page: PageQuery): Promise<RowPage<{ ticket: TicketRow; event: EventRow }>> {
    const rows = await this.repo.listForUser(userId, page.limit, decodeCursor(page.cursor, timestampIdCursor));
    return toPage(
      rows,
      page.limit,
      ({ ticket, event }) => ({ ticket, event }),
      (row) => [row.startsAtKey, row.ticket.id],
    );
  }
}
