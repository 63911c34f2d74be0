import { Router, type Response } from "express";
import { checkinBody, eventParams, selfCheckinBody, type CheckinStats, type DoorCodeResponse } from "../../../shared/api/events.ts";
import { currentUser, signedIn } from "../../http/middleware/auth.ts";
import { validated } from "../../http/validate.ts";
import { byUser, routeLimit } from "../../http/middleware/rate-limit.ts";
import type { Limit } from "../../infra/rate-limits.ts";
import { SCAN_STATUS } from "./checkins.presenter.ts";
import type { CheckinsService, ScanAnswer } from "./checkins.service.ts";

/** `scans`: per staff member, sized for a door's bursts (docs/operations.md, Rate limits). */
export function checkinsRoutes(checkins: CheckinsService, scans: Limit): Router {
  const router = Router();

  router.post(
    "/events/:eventId/checkins",
    signedIn,
    routeLimit(scans, byUser),
    validated({ params: eventParams, body: checkinBody }, async ({ params, body }, req, res) => {
      sendScanAnswer(res, await checkins.scan(params.eventId, currentUser(req).id, body));
    }),
  );

  router.post(
    "/events/:eventId/self-checkin",
    signedIn,
    routeLimit(scans, byUser),
    validated({ params: eventParams, body: selfCheckinBody }, async ({ params, body }, req, res) => {
      sendScanAnswer(res, await checkins.selfCheckIn(params.eventId, currentUser(req).id, body));
    }),
  );

  router.get(
    "/events/:eventId/door-code",
    signedIn,
    validated({ params: eventParams }, async ({ params }, req, res) => {
      const door = await checkins.doorCode(params.eventId, currentUser(req).id);
      // A code that changes every 30 s and admits whoever holds it: never kept by a cache.
      res.set("Cache-Control", "private, no-store");
      res.json({
        code: door.code,
        expiresAt: door.expiresAt.toISOString(),
        refreshAt: door.refreshAt.toISOString(),
      } satisfies DoorCodeResponse);
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

/** A scan's answer, fresh or replayed for its nonce: the stored bytes, with the status of its kind. */
function sendScanAnswer(res: Response, answer: ScanAnswer): void {
  res.status(SCAN_STATUS[answer.result]).type("application/json").send(answer.body);
}
