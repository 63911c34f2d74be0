import type { Role } from "../../../shared/api/communities.ts";
import type { CommunityRow } from "../../../shared/schema/index.ts";
import type { Executor, Transaction } from "../../infra/db/client.ts";
import { AppError } from "../../core/app-error.ts";
import type { CommunitiesRepository, CommunityRef } from "./communities.repo.ts";
import type { CommunityCache } from "./community-cache.ts";
import { authorize, type Action } from "./policy.ts";

export interface CommunityMember {
  community: CommunityRow;
  role: Role;
}

/**
 * Tenant isolation in one place: everything under a community goes through
 * here. A caller who is not a member gets the same 404 as for a community that
 * does not exist, so nothing (not even existence) leaks to outsiders.
 */
export class CommunityAccess {
  constructor(
    private readonly repo: CommunitiesRepository,
    private readonly cached: CommunityCache,
  ) {}

  /** The community with the caller's role, in one query; 404 for outsiders and unknown slugs alike. */
  async memberOf(db: Executor, where: CommunityRef, userId: string): Promise<CommunityMember> {
    return found(await this.repo.findWithRole(db, where, userId));
  }

  /** memberOf, then the policy: 404 for outsiders, 403 for members whose role is too low. */
  async authorize(db: Executor, where: CommunityRef, userId: string, action: Action): Promise<CommunityMember> {
    const member = await this.memberOf(db, where, userId);
    authorize(member.role, action);
    return member;
  }

  /**
   * authorize's check from the cache, for the hot paths that need only the community's id and the role (the members
   * page): no query when both are cached. The same 404 and 403.
   */
  async authorizeFromCache(slug: string, userId: string, action: Action): Promise<{ communityId: string; role: Role }> {
    const community = await this.cached.profile(slug);
    const role = community && (await this.cached.role(community.id, userId));
    if (!community || !role) throw AppError.notFound("community");
    authorize(role, action);
    return { communityId: community.id, role };
  }

  /**
   * For membership changes: locks the community row, then reads the caller's
   * role, in the transaction that makes the change. Every membership change
   * takes this lock first, so the role read is the one committed by the change
   * before (two owners demoting each other at once: the second finds itself
   * demoted), never a stale one.
   */
  async lockedMemberOf(tx: Transaction, where: CommunityRef, userId: string): Promise<CommunityMember> {
    const community = await this.repo.lock(tx, where);
    const membership = community && (await this.repo.findMembership(tx, community.id, userId));
    if (!community || !membership) throw AppError.notFound("community");
    return { community, role: membership.role };
  }
}

function found(member: CommunityMember | undefined): CommunityMember {
  if (!member) throw AppError.notFound("community");
  return member;
}
