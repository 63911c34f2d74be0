import { Router } from "express";
import { slugParams } from "../../../shared/api/communities.ts";
import { createEventBody, eventParams, type EventDto, type EventPageResponse, type EventResponse } from "../../../shared/api/events.ts";
import { pageQuery, type Page } from "../../../shared/api/pagination.ts";
import { presentPage } from "../../core/pagination.ts";
import { currentUser, signedIn } from "../../http/middleware/auth.ts";
import { validated } from "../../http/validate.ts";
import { presentEvent } from "./events.presenter.ts";
import type { EventsService } from "./events.service.ts";

export function eventsRoutes(events: EventsService): Router {
  const router = Router();

  router.get(
    "/communities/:slug/events",
    signedIn,
    validated({ params: slugParams, query: pageQuery }, async ({ params, query }, req, res) => {
      const page = await events.list(params.slug, currentUser(req).id, query);
      res.json(presentPage(page, presentEvent) satisfies Page<EventDto>);
    }),
  );

  router.post(
    "/communities/:slug/events",
    signedIn,
    validated({ params: slugParams, body: createEventBody }, async ({ params, body }, req, res) => {
      const event = await events.create(params.slug, currentUser(req).id, body);
      res.status(201).json({ event: presentEvent(event) } satisfies EventResponse);
    }),
  );

  router.get(
    "/events/:eventId",
    signedIn,
    validated({ params: eventParams }, async ({ params }, req, res) => {
      const { event, community, role } = await events.get(params.eventId, currentUser(req).id);
      res.json({ event: presentEvent(event), community: { slug: community.slug, name: community.name }, role } satisfies EventPageResponse);
    }),
  );

  return router;
}
