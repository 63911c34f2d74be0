import { Router } from "express";
import type { Container } from "../../container.ts";

/** Communities, members and news: /communities/... */
export function communitiesModule(_container: Container): Router {
  return Router();
}
