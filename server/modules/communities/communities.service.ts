import { z } from "zod";
import type { CreateCommunityBody, MembersQuery, Role, UpdateCommunityBody } from "../../../shared/api/communities.ts";
import type { Page, PageQuery } from "../../../shared/api/pagination.ts";
import type { CommunityRow, MembershipRow } from "../../../shared/schema/index.ts";
import type { Database, Executor, Transaction } from "../../infra/db/client.ts";
import type { Actor } from "../../core/actor.ts";
import { AppError } from "../../core/app-error.ts";
import { cursorKind, decodeCursor, toPage } from "../../core/pagination.ts";
import { timestampIdCursor } from "../../infra/db/keyset.ts";
import type { CommunityAccess } from "./access.ts";
import type { CommunitiesRepository, CommunityProfile, MemberRow } from "./communities.repo.ts";
import type { CommunityCache } from "./community-cache.ts";
import type { PlansService } from "../plans/index.ts";
import { authorize, authorizeRoleChange, can } from "./policy.ts";
import { alternativeSlug, slugFromName } from "./slug.ts";

/** Generated slugs try "name", "name-2", ... this many times before giving up with 409. */
const SLUG_ATTEMPTS = 20;

const MEMBERS_CURSOR = cursorKind("members", z.tuple([z.string(), z.uuid()]));
const MY_COMMUNITIES_CURSOR = timestampIdCursor("my-communities");

/** What other modules do when a membership ends, in the transaction that ends it (tickets are revoked). */
export type MembershipEndedHook = (tx: Transaction, membership: { communityId: string; userId: string }) => Promise<void>;

export interface MyCommunityRow {
  community: CommunityRow;
  role: Role;
}

export class CommunitiesService {
  constructor(
    private readonly db: Database,
    private readonly repo: CommunitiesRepository,
    private readonly access: CommunityAccess,
    private readonly cached: CommunityCache,
    private readonly membershipEnded: MembershipEndedHook,
    private readonly plans: PlansService,
  ) {}

  /** The community and its owner's membership, in one transaction. */
  async create(creator: Actor, input: CreateCommunityBody): Promise<CommunityRow> {
    return this.db.transaction(async (tx) => {
      const community = await this.insertWithFreeSlug(tx, input);
      await this.repo.insertMembership(tx, { communityId: community.id, userId: creator.id, role: "owner", memberName: creator.name });
      return community;
    });
  }

  /** The creator is the first member: the row starts with a member count of 1. */
  private async insertWithFreeSlug(tx: Executor, input: CreateCommunityBody) {
    const values = { name: input.name, description: input.description ?? "", joinPolicy: input.joinPolicy ?? "invite", memberCount: 1 };
    if (input.slug) {
      const community = await this.repo.insertCommunity(tx, { ...values, slug: input.slug });
      if (!community) throw new AppError("conflict", "slug: already taken", { details: [{ path: "slug", message: "already taken" }] });
      return community;
    }
    const base = slugFromName(input.name);
    for (let attempt = 0; attempt < SLUG_ATTEMPTS; attempt += 1) {
      const community = await this.repo.insertCommunity(tx, { ...values, slug: attempt === 0 ? base : alternativeSlug(base, attempt) });
      if (community) return community;
    }
    throw new AppError("conflict", "slug: every slug generated from this name is taken; choose one", {
      details: [{ path: "slug", message: "choose one" }],
    });
  }

  async publicProfile(slug: string): Promise<CommunityProfile> {
    const community = await this.cached.profile(slug);
    if (!community) throw AppError.notFound("community");
    return community;
  }

  async update(actor: Actor, slug: string, changes: UpdateCommunityBody): Promise<CommunityRow> {
    const { community } = await this.access.authorize(this.db, { slug }, actor.id, "updateCommunity");
    const updated = await this.repo.update(this.db, community.id, changes);
    if (!updated) throw AppError.notFound("community");
    await this.cached.forgetProfile(slug);
    return updated;
  }

  /** Joining is open only to communities whose policy says so; others add members by invitation. */
  async join(actor: Actor, slug: string): Promise<MembershipRow> {
    const membership = await this.db.transaction(async (tx) => {
      const community = await this.repo.lock(tx, { slug });
      if (!community) throw AppError.notFound("community");
      if (community.joinPolicy !== "open") throw new AppError("forbidden", "this community admits members by invitation only");
      return this.addMembership(tx, community, actor, "member");
    });
    await this.forgetMembership(slug, membership);
    return membership;
  }

  async addMember(actor: Actor, slug: string, email: string, role: Role): Promise<MembershipRow> {
    const membership = await this.db.transaction(async (tx) => {
      const { community, role: actorRole } = await this.access.lockedMemberOf(tx, { slug }, actor.id);
      authorizeRoleChange(actorRole, undefined, role);
      const user = await this.repo.findUserByEmail(tx, email);
      if (!user) {
        throw new AppError("not_found", "email: no registered user has this email", {
          details: [{ path: "email", message: "not registered" }],
        });
      }
      return this.addMembership(tx, community, user, role);
    });
    await this.forgetMembership(slug, membership);
    return membership;
  }

  /** The session, the role from the cache, then this page in one query. */
  /** The caller's role in the community (from the cache); 404 for outsiders, as everything under a community. */
  async roleOf(actor: Actor, slug: string): Promise<Role> {
    return (await this.access.authorizeFromCache(slug, actor.id, "read")).role;
  }

  async members(actor: Actor, slug: string, query: MembersQuery): Promise<Page<MemberRow>> {
    const { communityId, role } = await this.access.authorizeFromCache(slug, actor.id, "read");
    const after = decodeCursor(MEMBERS_CURSOR, query.cursor);
    const rows = await this.repo.membersPage(this.db, {
      communityId,
      limit: query.limit,
      after: after && { name: after[0], userId: after[1] },
      search: query.q,
      adminView: can(role, "seeMemberEmails"),
    });
    return toPage(rows, query.limit, MEMBERS_CURSOR, (row) => [row.name, row.userId] as const);
  }

  async myCommunities(actor: Actor, query: PageQuery): Promise<Page<MyCommunityRow>> {
    const rows = await this.repo.communitiesOf(this.db, actor.id, query.limit, decodeCursor(MY_COMMUNITIES_CURSOR, query.cursor));
    return toPage(rows, query.limit, MY_COMMUNITIES_CURSOR, (row) => [row.joinedAtKey, row.community.id] as const);
  }

  /** Under the community's row lock (taken by the caller): its member count is the one every other change left. */
  private async addMembership(tx: Transaction, community: CommunityRow, user: Actor, role: Role): Promise<MembershipRow> {
    if (await this.repo.findMembership(tx, community.id, user.id)) throw new AppError("conflict", "already a member of this community");
    await this.plans.assertRoom(tx, community.plan, "members", community.memberCount);
    const membership = await this.repo.insertMembership(tx, { communityId: community.id, userId: user.id, role, memberName: user.name });
    if (!membership) throw new AppError("conflict", "already a member of this community");
    await this.repo.adjustMemberCount(tx, community.id, 1);
    return membership;
  }

  async changeRole(actor: Actor, slug: string, userId: string, role: Role): Promise<MembershipRow> {
    const membership = await this.db.transaction(async (tx) => {
      const { community, role: actorRole } = await this.access.lockedMemberOf(tx, { slug }, actor.id);
      authorize(actorRole, "manageMembers");
      const target = await this.requireMembership(tx, community.id, userId);
      authorizeRoleChange(actorRole, target.role, role);
      if (target.role === "owner" && role !== "owner") await this.keepAnOwner(tx, community.id);
      return (await this.repo.setRole(tx, community.id, userId, role)) ?? target;
    });
    await this.cached.forgetRole(membership.communityId, userId);
    return membership;
  }

  /**
   * Admins remove members (owners remove owners); anyone may remove themselves,
   * i.e. leave. The member's tickets to events that have not ended are revoked
   * in the same transaction (tickets module), their seats returned.
   */
  async removeMember(actor: Actor, slug: string, userId: string): Promise<void> {
    const communityId = await this.db.transaction(async (tx) => {
      const { community, role: actorRole } = await this.access.lockedMemberOf(tx, { slug }, actor.id);
      if (userId !== actor.id) authorize(actorRole, "manageMembers");
      const target = await this.requireMembership(tx, community.id, userId);
      if (target.role === "owner") {
        if (userId !== actor.id) authorize(actorRole, "manageOwners");
        await this.keepAnOwner(tx, community.id);
      }
      await this.repo.deleteMembership(tx, community.id, userId);
      await this.repo.adjustMemberCount(tx, community.id, -1);
      await this.membershipEnded(tx, { communityId: community.id, userId });
      return community.id;
    });
    await this.forgetMembership(slug, { communityId, userId });
  }

  /** Once a membership's change has committed: the member count of the profile, and the role, are other ones now. */
  private async forgetMembership(slug: string, membership: { communityId: string; userId: string }): Promise<void> {
    await Promise.all([this.cached.forgetProfile(slug), this.cached.forgetRole(membership.communityId, membership.userId)]);
  }

  private async requireMembership(tx: Executor, communityId: string, userId: string) {
    const membership = await this.repo.findMembership(tx, communityId, userId);
    if (!membership) throw AppError.notFound("member");
    return membership;
  }

  /** Called under the community's row lock, before an owner is demoted or removed. */
  private async keepAnOwner(tx: Executor, communityId: string): Promise<void> {
    if ((await this.repo.countOwners(tx, communityId)) <= 1) {
      throw new AppError("conflict", "a community keeps at least one owner: make someone else owner first");
    }
  }
}
