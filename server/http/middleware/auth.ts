import type { Request, RequestHandler } from "express";
import { AppError } from "../../core/app-error.ts";
import { requestContext } from "../../core/request-context.ts";
import { sessionOf } from "./session.ts";

export interface AuthenticatedUser {
  id: string;
  email: string;
  name: string;
  /** The user's allowance under the per-user rate limit (their best plan's). */
  requestsPerMinute: number;
}

declare module "express-serve-static-core" {
  interface Request {
    /** Set by `authenticate` when the session belongs to a current user. */
    user?: AuthenticatedUser;
  }
}

export interface SessionUserLookup {
  /** The user with the session version their sessions must carry, or undefined if the account is gone. */
  findSessionUser(userId: string): Promise<(AuthenticatedUser & { sessionVersion: number }) | undefined>;
}

/**
 * Turns the session into `req.user`. A session issued before the user's last
 * password change (an older session version) or for a deleted account is
 * replaced by an empty one: the request continues as anonymous, and may sign in.
 * Only a session that was read and found stale is ever deleted here; one that
 * could not be read never reaches this point (the store's failure is a 503).
 */
export function authenticate(users: SessionUserLookup): RequestHandler {
  return async (req, _res, next) => {
    const session = sessionOf(req);
    const userId = session?.userId;
    if (!session || !userId) return next();
    const { sessionVersion } = session;
    const user = await users.findSessionUser(userId);
    if (!user || user.sessionVersion !== (sessionVersion ?? 0)) {
      // Not `destroy`, which leaves no `req.session` for a sign-in in this same request. A store that cannot delete
      // the stale session now is no reason to refuse the request: it is refused again, and deleted, next time.
      await new Promise<void>((resolve) => session.regenerate(() => resolve()));
      return next();
    }
    req.user = { id: user.id, email: user.email, name: user.name, requestsPerMinute: user.requestsPerMinute };
    const context = requestContext.getStore();
    if (context) context.userId = user.id;
    next();
  };
}

/** The signed-in user, or 401 unauthenticated. */
export function currentUser(req: Request): AuthenticatedUser {
  if (!req.user) throw new AppError("unauthenticated", "sign in first");
  return req.user;
}

/** Placed before `validated(...)`: an anonymous caller gets 401, whatever the shape of the request. */
export const signedIn: RequestHandler = (req, _res, next) => {
  currentUser(req);
  next();
};
