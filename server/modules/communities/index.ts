import type { Router } from "express";
import type { Container } from "../../container.ts";
import { CommunityAccess } from "./access.ts";
import { CommunitiesRepository } from "./communities.repo.ts";
import { CommunitiesService } from "./communities.service.ts";
import { NewsRepository } from "./news.repo.ts";
import { NewsService } from "./news.service.ts";
import { communitiesRoutes } from "./communities.routes.ts";

export { CommunityAccess } from "./access.ts";
export type { CommunityMember } from "./access.ts";

/** Communities, members and news: /communities/... */
export function communitiesModule(container: Container): Router {
  const access = new CommunityAccess(container.db);
  return communitiesRoutes(
    new CommunitiesService(container.db, new CommunitiesRepository(), access),
    new NewsService(container.db, new NewsRepository(), access),
  );
}
