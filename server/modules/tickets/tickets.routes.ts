import { Router } from "express";
import { eventParams, ticketParams, type MyTicketDto, type TicketResponse } from "../../../shared/api/events.ts";
import { pageQuery, type Page } from "../../../shared/api/pagination.ts";
import { presentPage } from "../../core/pagination.ts";
import { currentUser, signedIn } from "../../http/middleware/auth.ts";
import { validated } from "../../http/validate.ts";
import { presentEvent } from "../events/index.ts";
import type { TicketCodes } from "./ticket-code.ts";
import { presentTicket, renderQrSvg } from "./tickets.presenter.ts";
import type { TicketsService } from "./tickets.service.ts";

export function ticketsRoutes(tickets: TicketsService, codes: TicketCodes): Router {
  const router = Router();

  router.post(
    "/events/:eventId/tickets",
    signedIn,
    validated({ params: eventParams }, async ({ params }, req, res) => {
      const ticket = await tickets.take(params.eventId, currentUser(req).id);
      res.status(201).json({ ticket: presentTicket(ticket, codes) } satisfies TicketResponse);
    }),
  );

  /** The caller's own tickets, in the order of their events. */
  router.get(
    "/tickets",
    signedIn,
    validated({ query: pageQuery }, async ({ query }, req, res) => {
      const page = await tickets.listMine(currentUser(req).id, query);
      res.json(
        presentPage(page, ({ ticket, event }) => ({
          ...presentTicket(ticket, codes),
          event: presentEvent(event),
        })) satisfies Page<MyTicketDto>,
      );
    }),
  );

  router.get(
    "/tickets/:ticketId",
    signedIn,
    validated({ params: ticketParams }, async ({ params }, req, res) => {
      const ticket = await tickets.get(params.ticketId, currentUser(req).id);
      res.json({ ticket: presentTicket(ticket, codes) } satisfies TicketResponse);
    }),
  );

  router.get(
    "/tickets/:ticketId/qr.svg",
    signedIn,
    validated({ params: ticketParams }, async ({ params }, req, res) => {
      const ticket = await tickets.admittingTicket(params.ticketId, currentUser(req).id);
      const svg = await renderQrSvg(presentTicket(ticket, codes).code);
      // Whoever holds the image can get in: no shared cache may keep it.
      res.set("Cache-Control", "private, no-store").type("image/svg+xml").send(svg);
    }),
  );

  return router;
}
