import type { Router } from "express";
import type { Container } from "../../container.ts";
import { CommunityAccess } from "./access.ts";
import { CommunitiesRepository } from "./communities.repo.ts";
import { CommunityCache } from "./community-cache.ts";
import { CommunitiesService, type MembershipEndedHook } from "./communities.service.ts";
import { NewsRepository } from "./news.repo.ts";
import { NewsService } from "./news.service.ts";
import { communitiesRoutes } from "./communities.routes.ts";
import type { PlansService } from "../plans/index.ts";

export { CommunityAccess } from "./access.ts";
export type { CommunityMember } from "./access.ts";
export { CommunitiesRepository } from "./communities.repo.ts";
export type { MembershipEndedHook } from "./communities.service.ts";
export { authorize, can, type Action } from "./policy.ts";

/** The access check other modules build on: one per process, over the communities repository and the cache. */
export function communityAccess(container: Container): CommunityAccess {
  const repo = new CommunitiesRepository();
  return new CommunityAccess(repo, new CommunityCache(container.db, repo, container.cache));
}

/** Communities, members and news: /communities/... */
export function communitiesModule(container: Container, plans: PlansService, hooks: { membershipEnded: MembershipEndedHook }): Router {
  const repo = new CommunitiesRepository();
  const cached = new CommunityCache(container.db, repo, container.cache);
  const access = new CommunityAccess(repo, cached);
  return communitiesRoutes(
    new CommunitiesService(container.db, repo, access, cached, hooks.membershipEnded, plans),
    new NewsService(container.db, new NewsRepository(), access),
  );
}
