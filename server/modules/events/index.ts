import { Router } from "express";
import type { Container } from "../../container.ts";
import { CommunityAccess } from "../communities/access.ts";
import { ticketsModule } from "../tickets/index.ts";
import { EventAccess } from "./access.ts";
import { CheckinsRepository } from "./checkins.repo.ts";
import { checkinsRoutes } from "./checkins.routes.ts";
import { CheckinsService } from "./checkins.service.ts";
import { EventsRepository } from "./events.repo.ts";
import { eventsRoutes } from "./events.routes.ts";
import { EventsService } from "./events.service.ts";

/** Events, tickets and door check-in: /communities/:slug/events, /events/:eventId/..., /tickets/:ticketId/... */
export function eventsModule(container: Container): Router {
  const events = new EventsRepository(container.db);
  const access = new EventAccess(events);
  const router = Router();
  router.use(eventsRoutes(new EventsService(events, new CommunityAccess(container.db), access)));
  router.use(ticketsModule(container, access));
  router.use(checkinsRoutes(new CheckinsService(new CheckinsRepository(container.db), access, container.ticketCodes)));
  return router;
}
