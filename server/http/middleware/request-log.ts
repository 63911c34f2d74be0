import { randomUUID } from "node:crypto";
import type { Request, RequestHandler, Response } from "express";
import type { Logger } from "pino";
import { requestContext } from "../../core/request-context.ts";
import { httpInFlight, httpRequestDuration, httpRequests } from "../../infra/metrics.ts";

/** Latency thresholds of the capacity analysis: warn from 500 ms, flag as slow from 1 s. */
export const WARN_AFTER_MS = 500;
export const SLOW_AFTER_MS = 1_000;

/** A client's id is reused only when it is short and plain, so it cannot inject into logs. */
const ACCEPTABLE_REQUEST_ID = /^[\w.:-]{1,128}$/;

function requestIdOf(req: Request): string {
  const given = req.get("x-request-id");
  return given && ACCEPTABLE_REQUEST_ID.test(given) ? given : randomUUID();
}

/** The route template (`/api/communities/:slug`), never the raw path: ids and slugs stay out of the log's keys. */
function routeTemplate(req: Request, res: Response): string {
  if (typeof res.locals.route === "string") return res.locals.route;
  const route = req.route as { path?: string } | undefined;
  if (route?.path === undefined) return "(unmatched)";
  return route.path === "/" && req.baseUrl ? req.baseUrl : `${req.baseUrl}${route.path}`;
}

/** Milliseconds from an arbitrary origin; tests pass a clock they move themselves. */
export type Clock = () => number;

/**
 * Gives the request its id (echoed as X-Request-Id, carried by every log line of
 * the request through AsyncLocalStorage), writes one line when it ends and
 * records it in the metrics under the same route template.
 */
export function requestLog(logger: Logger, now: Clock = () => performance.now()): RequestHandler {
  return (req, res, next) => {
    const context = { requestId: requestIdOf(req), userId: undefined as string | undefined };
    res.set("X-Request-Id", context.requestId);
    const started = now();
    httpInFlight.inc();
    // "close" comes once per response, finished or aborted: the gauge goes back down exactly once.
    res.on("close", () => {
      httpInFlight.dec();
      const durationMs = Math.round((now() - started) * 10) / 10;
      const line = {
        requestId: context.requestId,
        userId: context.userId,
        method: req.method,
        route: routeTemplate(req, res),
        status: res.statusCode,
        durationMs,
        ...(res.writableFinished ? {} : { aborted: true }),
      };
      const labels = { method: line.method, route: line.route, status: line.status };
      httpRequests.inc(labels);
      httpRequestDuration.observe(labels, durationMs / 1_000);
      if (durationMs >= SLOW_AFTER_MS) logger.error({ ...line, slow: true }, "request");
      else if (durationMs >= WARN_AFTER_MS) logger.warn(line, "request");
      else logger.info(line, "request");
    });
    requestContext.run(context, next);
  };
}
