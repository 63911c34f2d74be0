import session, { type Store } from "express-session";
import type { Request, RequestHandler } from "express";
import type { Logger } from "pino";
import { AppError } from "../../core/app-error.ts";

declare module "express-session" {
  interface SessionData {
    /** When the session was first written; it ends at createdAt + the absolute maximum age, whatever its activity. */
    createdAt: number;
    userId: string;
    /** The user's session version at sign-in (see middleware/auth.ts). */
    sessionVersion: number;
  }
}

export interface SessionOptions {
  store: Store;
  secrets: string[];
  idleMs: number;
  maxAgeMs: number;
  secureCookie: boolean;
  logger: Logger;
}

export const SESSION_COOKIE = "sid";

/**
 * Cookie sessions in a shared store (Redis, or Postgres in local mode), so every
 * worker and every instance sees the same session. The expiry rolls with each
 * request (idle timeout) but never past the absolute maximum age.
 */
export function sessions(options: SessionOptions): RequestHandler[] {
  const cookieSessions = session({
    name: SESSION_COOKIE,
    store: options.store,
    secret: options.secrets,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    // Not "destroy": express-session would then delete, as the response ends, every session it could not read
    // (a Redis stall), signing its member out once the delete reaches Redis. Sign-out destroys sessions itself.
    unset: "keep",
    cookie: { httpOnly: true, sameSite: "lax", secure: options.secureCookie, maxAge: options.idleMs },
  });
  return [onlyWithSession(storeFailuresAsUnavailable(cookieSessions, options.logger)), absoluteExpiry(options.maxAgeMs)];
}

const SESSION_COOKIE_SENT = new RegExp(`(?:^|;)\\s*${SESSION_COOKIE}=`);

/**
 * A GET or HEAD without the session cookie has no session to read and starts none (signing in is a POST): it leaves
 * `req.session` unset rather than pay for a session id drawn and hashed for nothing, as express-session would on
 * every anonymous read. Read it through `sessionOf`.
 */
function onlyWithSession(middleware: RequestHandler): RequestHandler {
  return (req, res, next) => {
    const safe = req.method === "GET" || req.method === "HEAD";
    if (safe && !SESSION_COOKIE_SENT.test(req.headers.cookie ?? "")) return next();
    middleware(req, res, next);
  };
}

/** The request's session: none on a GET or HEAD that sent no session cookie. */
export function sessionOf(req: Request): Request["session"] | undefined {
  return req.session as Request["session"] | undefined;
}

/**
 * A session store that cannot be reached (Redis restarting) is a 503 to retry,
 * not an internal error. express-session calls `next` a second time when saving
 * or touching the session fails as the response ends; the router has moved past
 * the error handler by then and would hand that error to Express's final handler,
 * which prints a raw stack and resets the connection (and the keep-alive request
 * queued on it). Such a failure is logged here instead: the answer has gone.
 */
function storeFailuresAsUnavailable(middleware: RequestHandler, logger: Logger): RequestHandler {
  return (req, res, next) => {
    let passedOn = false;
    middleware(req, res, (error?: unknown) => {
      if (passedOn) {
        logger.warn({ err: error }, "session not saved after the response");
        return;
      }
      passedOn = true;
      if (error === undefined || error === null) return next();
      next(sessionStoreUnavailable(error));
    });
  };
}

export function sessionStoreUnavailable(cause: unknown): AppError {
  return new AppError("unavailable", "session store unavailable, retry shortly", { retryAfterS: 2, cause });
}

function absoluteExpiry(maxAgeMs: number): RequestHandler {
  return (req, _res, next) => {
    const session = sessionOf(req);
    const createdAt = session?.createdAt;
    if (!session || createdAt === undefined || Date.now() - createdAt < maxAgeMs) return next();
    session.regenerate((error) => next(error));
  };
}
