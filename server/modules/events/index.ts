import type { Router } from "express";
import type { Container } from "../../container.ts";
import type { CommunityAccess } from "../communities/index.ts";
import { EventAccess } from "./access.ts";
import { EventsRepository } from "./events.repo.ts";
import { eventsRoutes } from "./events.routes.ts";
import { EventsService } from "./events.service.ts";
import type { PlansService } from "../plans/index.ts";

export { EventAccess } from "./access.ts";
export { presentEvent } from "./events.presenter.ts";

export interface EventsModule {
  routes: Router;
  /** The access check of everything under /events/:eventId, for the modules built on events (tickets, check-in). */
  access: EventAccess;
}

/** Events: /communities/:slug/events, /events/:eventId */
export function eventsModule(container: Container, communities: CommunityAccess, plans: PlansService): EventsModule {
  const repo = new EventsRepository();
  const access = new EventAccess(repo);
  return { routes: eventsRoutes(new EventsService(container.db, repo, communities, access, plans)), access };
}
