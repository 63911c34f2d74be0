import type { Request } from "express";
import { sessionStoreUnavailable } from "./middleware/session.ts";

/**
 * express-session's callback API as promises. Signing in regenerates the
 * session id (no fixation: an id planted before login is worth nothing after).
 */
export function signIn(req: Request, user: { id: string; sessionVersion: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    req.session.regenerate((regenerateError) => {
      if (regenerateError) return reject(sessionStoreUnavailable(regenerateError));
      req.session.userId = user.id;
      req.session.sessionVersion = user.sessionVersion;
      req.session.createdAt = Date.now();
      req.session.save((saveError) => (saveError ? reject(sessionStoreUnavailable(saveError)) : resolve()));
    });
  });
}

export function signOut(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.destroy((error) => (error ? reject(sessionStoreUnavailable(error)) : resolve())));
}
