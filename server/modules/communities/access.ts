import { and, eq } from "drizzle-orm";
import type { Role } from "../../../shared/api/communities.ts";
import { communities, memberships, type CommunityRow } from "../../../shared/schema/index.ts";
import type { Database } from "../../infra/db/client.ts";
import { AppError } from "../../core/app-error.ts";
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
  constructor(private readonly db: Database) {}

  /** The community with the caller's role, in one query; 404 for outsiders and unknown slugs alike. */
  async memberOf(where: { slug: string } | { id: string }, userId: string): Promise<CommunityMember> {
    const [row] = await this.db
      .select({ community: communities, role: memberships.role })
      .from(communities)
      .innerJoin(memberships, and(eq(memberships.communityId, communities.id), eq(memberships.userId, userId)))
      .where("slug" in where ? eq(communities.slug, where.slug) : eq(communities.id, where.id))
      .limit(1);
    if (!row) throw AppError.notFound("community");
    return row;
  }

  /** memberOf, then the policy: 404 for outsiders, 403 for members whose role is too low. */
  async authorize(where: { slug: string } | { id: string }, userId: string, action: Action): Promise<CommunityMember> {
    const member = await this.memberOf(where, userId);
    authorize(member.role, action);
    return member;
  }
}
