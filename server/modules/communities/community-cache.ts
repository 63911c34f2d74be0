import type { Role } from "../../../shared/api/communities.ts";
import type { Cache } from "../../infra/cache.ts";
import type { Database } from "../../infra/db/client.ts";
import type { CommunitiesRepository, CommunityProfile } from "./communities.repo.ts";

/**
 * The communities' hot reads through the two-tier cache, and their invalidation:
 * the public profile by slug, a member's role by community and user (the key
 * names the community: one tenant's entry never answers for another). A
 * change calls `forget…` once its transaction has committed; the delete then
 * reaches every process (server/infra/cache.ts).
 */
export class CommunityCache {
  constructor(
    private readonly db: Database,
    private readonly repo: CommunitiesRepository,
    private readonly cache: Cache,
  ) {}

  profile(slug: string): Promise<CommunityProfile | undefined> {
    return this.cache.get("community", slug, () => this.repo.findProfile(this.db, slug));
  }

  role(communityId: string, userId: string): Promise<Role | undefined> {
    return this.cache.get("memberRole", roleKey(communityId, userId), () => this.repo.findRole(this.db, communityId, userId));
  }

  /** After a change of name, description, join policy or member count. */
  forgetProfile(slug: string): Promise<void> {
    return this.cache.delete("community", slug);
  }

  /** After a join, a role change or a removal. */
  forgetRole(communityId: string, userId: string): Promise<void> {
    return this.cache.delete("memberRole", roleKey(communityId, userId));
  }
}

const roleKey = (communityId: string, userId: string) => `${communityId}:${userId}`;
