import { Router } from "express";
import type { Container } from "../../container.ts";

/** Events, tickets and door check-in: /communities/:slug/events, /events/:eventId/..., /tickets/:ticketId/... */
export function eventsModule(_container: Container): Router {
  return Router();
}
