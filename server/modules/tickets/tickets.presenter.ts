import QRCode from "qrcode";
import type { TicketDto } from "../../../shared/api/events.ts";
import type { TicketRow } from "../../../shared/schema/index.ts";
import type { TicketCodes } from "./ticket-code.ts";

/** The API shape of a ticket, with its signed code (the code is derived, never stored). */
export function presentTicket(row: TicketRow, codes: TicketCodes): TicketDto {
  return {
    id: row.id,
    eventId: row.eventId,
    userId: row.userId,
    code: codes.sign({ ticketId: row.id, eventId: row.eventId }),
    status: row.status,
  };
}

/** The code as a QR image: level M, a 2-module margin (a 66-character code fits version 5). */
export function renderQrSvg(code: string): Promise<string> {
  return QRCode.toString(code, { type: "svg", errorCorrectionLevel: "M", margin: 2 });
}
