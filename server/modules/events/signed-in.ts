import type { RequestHandler } from "express";
import { currentUser } from "../../http/middleware/auth.ts";

/** Placed before `validated(...)`: an anonymous caller gets 401, whatever the shape of the request. */
export const signedIn: RequestHandler = (req, _res, next) => {
  currentUser(req);
  next();
};
