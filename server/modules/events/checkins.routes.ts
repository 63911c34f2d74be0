import { Router } from "express";
import { checkinBody, eventParams, type CheckinStats } from "../../../shared/api/events.ts";
import { currentUser } from "../../http/middleware/auth.ts";
import { validated } from "../../http/validate.ts";
import { presentScan } from "./checkins.presenter.ts";
import type { CheckinsService } from "./checkins.service.ts";
import { signedIn } from "../../http/middleware/auth.ts";

export function checkinsRoutes(checkins: CheckinsService): Router {
  const router = Router();

  router.post(
    "/events/:eventId/checkins",
    signedIn,
    validated({ params: eventParams, body: checkinBody }, async ({ params, body }, req, res) => {
      const outcome = await checkins.scan(params.eventId, currentUser(req).id, body);
      res.status(outcome.status).json(presentScan(outcome.response));
    }),
  );

  router.get(
    "/events/:eventId/checkins/stats",
    signedIn,
    validated({ params: eventParams }, async ({ params }, req, res) => {
      res.json((await checkins.stats(params.eventId, currentUser(req).id)) satisfies CheckinStats);
    }),
  );

  return router;
}
