import type { RequestHandler } from "express";
import { AppError } from "../../core/app-error.ts";
import type { LoadMonitor, ShedReason } from "../../infra/load.ts";
import { shedRequests } from "../../infra/metrics.ts";

/**
 * Never refused: probes (a worker that sheds is alive and should keep its traffic, not be restarted), metrics (what
 * shows the overload), and the webhooks of Stripe and SendGrid, whose deliveries are only stored here and worked off by
 * the background worker. Express matches routes case-insensitively, so this does too.
 */
const EXEMPT = /^\/api\/(health|metrics|webhooks)(\/|$)/i;

/** A refused request is cheap, so a client may come back soon; by then the window has changed. */
const RETRY_AFTER_S = 1;

const MESSAGES: Record<ShedReason, string> = {
  in_flight: "too many requests in progress, retry shortly",
  event_loop_delay: "the server is too busy, retry shortly",
};

/**
 * Answers 503 `overloaded` at once when this worker is past its limits, rather than queueing the request behind those it
 * is already serving: the admitted ones keep their latency, and a refused one costs no Redis, database or body read.
 * Every request let through, exempt ones included, counts as in flight: a burst of webhooks loads the worker too.
 */
export function loadShedding(load: LoadMonitor): RequestHandler {
  return (req, res, next) => {
    const reason = EXEMPT.test(req.path) ? undefined : load.refusal();
    if (reason) {
      shedRequests.inc({ reason });
      throw new AppError("overloaded", MESSAGES[reason], { retryAfterS: RETRY_AFTER_S });
    }
    load.track(res);
    next();
  };
}
