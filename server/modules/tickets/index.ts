import type { Router } from "express";
import type { Container } from "../../container.ts";
import type { MembershipEndedHook } from "../communities/index.ts";
import type { EventAccess } from "../events/index.ts";
import { emailOutbox } from "../emails/index.ts";
import { TicketsRepository } from "./tickets.repo.ts";
import { TicketsService } from "./tickets.service.ts";
import { ticketsRoutes } from "./tickets.routes.ts";

export { TicketCodes } from "./ticket-code.ts";
export { presentTicket } from "./tickets.presenter.ts";

export interface TicketsModule {
  routes: Router;
  /** Revokes a former member's tickets to events that have not ended, in the transaction that ends the membership. */
  membershipEnded: MembershipEndedHook;
}

/** Tickets: /events/:eventId/tickets, /tickets, /tickets/:ticketId, /tickets/:ticketId/qr.svg */
export function ticketsModule(container: Container, events: EventAccess): TicketsModule {
  const service = new TicketsService(container.db, new TicketsRepository(), events, container.ticketCodes, emailOutbox(container));
  return {
    routes: ticketsRoutes(service, container.ticketCodes),
    membershipEnded: (tx, membership) => service.revokeUpcoming(tx, membership),
  };
}
