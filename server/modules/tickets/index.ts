import type { Router } from "express";
import type { Container } from "../../container.ts";
import type { EventAccess } from "../events/access.ts";
import { TicketsRepository } from "./tickets.repo.ts";
import { TicketsService } from "./tickets.service.ts";
import { ticketsRoutes } from "./tickets.routes.ts";

/** Tickets: /events/:eventId/tickets, /tickets, /tickets/:ticketId, /tickets/:ticketId/qr.svg (mounted by the events module). */
export function ticketsModule(container: Container, events: EventAccess): Router {
  return ticketsRoutes(new TicketsService(new TicketsRepository(container.db), events), container.ticketCodes);
}
