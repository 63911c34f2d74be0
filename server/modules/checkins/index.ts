import type { Router } from "express";
import type { Container } from "../../container.ts";
import type { EventAccess } from "../events/index.ts";
import { scanRenderer } from "./checkins.presenter.ts";
import { CheckinsRepository } from "./checkins.repo.ts";
import { checkinsRoutes } from "./checkins.routes.ts";
import { CheckinsService } from "./checkins.service.ts";
import { DoorCodes } from "./door-code.ts";

/** Door check-in: /events/:eventId/checkins, /events/:eventId/self-checkin, /events/:eventId/door-code, /events/:eventId/checkins/stats */
export function checkinsModule(container: Container, events: EventAccess): Router {
  const service = new CheckinsService(
    container.db,
    new CheckinsRepository(),
    events,
    container.ticketCodes,
    new DoorCodes(container.config.ticketSigningKeys),
    scanRenderer(container.ticketCodes),
  );
  return checkinsRoutes(service, container.rateLimits.checkin);
}
