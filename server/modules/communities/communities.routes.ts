import { Router } from "express";
import {
  addMemberBody,
  changeRoleBody,
  createCommunityBody,
  createNewsBody,
  memberParams,
  membersQuery,
  slugParams,
  updateCommunityBody,
  type MyMembershipResponse,
} from "../../../shared/api/communities.ts";
import { pageQuery } from "../../../shared/api/pagination.ts";
import { presentPage } from "../../core/pagination.ts";
import { validated } from "../../http/validate.ts";
import { cachePublicly } from "../../http/cache-control.ts";
import { currentUser, signedIn } from "../../http/middleware/auth.ts";
import type { CommunitiesService } from "./communities.service.ts";
import type { NewsService } from "./news.service.ts";
import { presentCommunity, presentMember, presentMembership, presentMyCommunity, presentNews } from "./communities.presenter.ts";

export function communitiesRoutes(communities: CommunitiesService, news: NewsService): Router {
  const router = Router();

  router.post(
    "/communities",
    signedIn,
    validated({ body: createCommunityBody }, async ({ body }, req, res) => {
      const community = await communities.create(currentUser(req), body);
      res.status(201).json({ community: presentCommunity(community) });
    }),
  );

  router.get(
    "/communities",
    signedIn,
    validated({ query: pageQuery }, async ({ query }, req, res) => {
      res.json(presentPage(await communities.myCommunities(currentUser(req), query), presentMyCommunity));
    }),
  );

  router.get(
    "/communities/:slug",
    validated({ params: slugParams }, async ({ params }, _req, res) => {
      const community = presentCommunity(await communities.publicProfile(params.slug));
      // A change (an admin's edit, a new member) shows within the minute.
      cachePublicly(res, { maxAgeS: 60, staleS: 300 });
      res.json({ community });
    }),
  );

  router.patch(
    "/communities/:slug",
    signedIn,
    validated({ params: slugParams, body: updateCommunityBody }, async ({ params, body }, req, res) => {
      res.json({ community: presentCommunity(await communities.update(currentUser(req), params.slug, body)) });
    }),
  );

  router.post(
    "/communities/:slug/join",
    signedIn,
    validated({ params: slugParams }, async ({ params }, req, res) => {
      res.status(201).json({ membership: presentMembership(await communities.join(currentUser(req), params.slug)) });
    }),
  );

  router.get(
    "/communities/:slug/membership",
    signedIn,
    validated({ params: slugParams }, async ({ params }, req, res) => {
      res.json({ membership: { role: await communities.roleOf(currentUser(req), params.slug) } } satisfies MyMembershipResponse);
    }),
  );

  router.get(
    "/communities/:slug/members",
    signedIn,
    validated({ params: slugParams, query: membersQuery }, async ({ params, query }, req, res) => {
      res.json(presentPage(await communities.members(currentUser(req), params.slug, query), presentMember));
    }),
  );

  router.post(
    "/communities/:slug/members",
    signedIn,
    validated({ params: slugParams, body: addMemberBody }, async ({ params, body }, req, res) => {
      const membership = await communities.addMember(currentUser(req), params.slug, body.email, body.role ?? "member");
      res.status(201).json({ membership: presentMembership(membership) });
    }),
  );

  router.patch(
    "/communities/:slug/members/:userId",
    signedIn,
    validated({ params: memberParams, body: changeRoleBody }, async ({ params, body }, req, res) => {
      const membership = await communities.changeRole(currentUser(req), params.slug, params.userId, body.role);
      res.json({ membership: presentMembership(membership) });
    }),
  );

  router.delete(
    "/communities/:slug/members/:userId",
    signedIn,
    validated({ params: memberParams }, async ({ params }, req, res) => {
      await communities.removeMember(currentUser(req), params.slug, params.userId);
      res.status(204).end();
    }),
  );

  router.get(
    "/communities/:slug/news",
    signedIn,
    validated({ params: slugParams, query: pageQuery }, async ({ params, query }, req, res) => {
      res.json(presentPage(await news.list(currentUser(req), params.slug, query), presentNews));
    }),
  );

  router.post(
    "/communities/:slug/news",
    signedIn,
    validated({ params: slugParams, body: createNewsBody }, async ({ params, body }, req, res) => {
      res.status(201).json({ news: presentNews(await news.publish(currentUser(req), params.slug, body)) });
    }),
  );

  return router;
}
