import { and, asc, desc, eq, gt, ilike, or, sql } from "drizzle-orm";
import type { Role } from "../../../shared/api/communities.ts";
import { communities, memberships, users, type CommunityRow, type MembershipRow } from "../../../shared/schema/index.ts";
import type { Executor } from "../../infra/db/client.ts";
import { beforeCursor, timestampKeyOf, type TimestampIdCursor } from "../../infra/db/keyset.ts";

export interface NewCommunity {
  slug: string;
  name: string;
  description: string;
  joinPolicy: CommunityRow["joinPolicy"];
  memberCount: number;
}

/** A row of the members page; the email only for those allowed to see it. */
export interface MemberRow {
  userId: string;
  name: string;
  role: Role;
  joinedAt: Date;
  /** Admins' view only. */
  email?: string | undefined;
  /** Admins' view only: when the member's dues run out (null: never paid). */
  duesPaidUntil?: Date | null | undefined;
}

/** What anyone may read of a community: plain values, which the cache keeps as they are. */
export type CommunityProfile = Pick<CommunityRow, "id" | "slug" | "name" | "description" | "memberCount" | "plan" | "joinPolicy">;

const PROFILE_COLUMNS = {
  id: communities.id,
  slug: communities.slug,
  name: communities.name,
  description: communities.description,
  memberCount: communities.memberCount,
  plan: communities.plan,
  joinPolicy: communities.joinPolicy,
};

/** A community by slug or by id. */
export type CommunityRef = { slug: string } | { id: string };

const matching = (where: CommunityRef) => ("slug" in where ? eq(communities.slug, where.slug) : eq(communities.id, where.id));

export interface MembersPageQuery {
  communityId: string;
  limit: number;
  after?: { name: string; userId: string } | undefined;
  search?: string | undefined;
  /** The admins' view: email and dues of each member. */
  adminView: boolean;
}

/** Escapes LIKE's wildcards so a search for "50%" matches the text "50%". */
const likeContains = (text: string) => `%${text.replace(/[\\%_]/g, (match) => `\\${match}`)}%`;

export class CommunitiesRepository {
  /** Inserts unless the slug is taken; undefined then, the unique index deciding. */
  async insertCommunity(db: Executor, values: NewCommunity): Promise<CommunityRow | undefined> {
    const [row] = await db.insert(communities).values(values).onConflictDoNothing({ target: communities.slug }).returning();
    return row;
  }

  /** A registered user to add as a member: the fields a membership copies. */
  async findUserByEmail(db: Executor, email: string): Promise<{ id: string; name: string } | undefined> {
    const [row] = await db.select({ id: users.id, name: users.name }).from(users).where(eq(users.email, email)).limit(1);
    return row;
  }

  async findProfile(db: Executor, slug: string): Promise<CommunityProfile | undefined> {
    const [row] = await db.select(PROFILE_COLUMNS).from(communities).where(eq(communities.slug, slug)).limit(1);
    return row;
  }

  async findRole(db: Executor, communityId: string, userId: string): Promise<Role | undefined> {
    const [row] = await db
      .select({ role: memberships.role })
      .from(memberships)
      .where(and(eq(memberships.communityId, communityId), eq(memberships.userId, userId)))
      .limit(1);
    return row?.role;
  }

  /** The community with the user's role in it, in one query; undefined when either is missing. */
  async findWithRole(db: Executor, where: CommunityRef, userId: string): Promise<{ community: CommunityRow; role: Role } | undefined> {
    const [row] = await db
      .select({ community: communities, role: memberships.role })
      .from(communities)
      .innerJoin(memberships, and(eq(memberships.communityId, communities.id), eq(memberships.userId, userId)))
      .where(matching(where))
      .limit(1);
    return row;
  }

  /** Locks the community row: membership changes run one at a time per community, each seeing the roles the previous one left. */
  async lock(db: Executor, where: CommunityRef): Promise<CommunityRow | undefined> {
    const [row] = await db.select().from(communities).where(matching(where)).for("update");
    return row;
  }

  async update(db: Executor, communityId: string, values: Partial<Pick<CommunityRow, "name" | "description" | "joinPolicy">>) {
    const [row] = await db.update(communities).set(values).where(eq(communities.id, communityId)).returning();
    return row;
  }

  async adjustMemberCount(db: Executor, communityId: string, delta: 1 | -1): Promise<void> {
    await db
      .update(communities)
      .set({ memberCount: sql`${communities.memberCount} + ${delta}` })
      .where(eq(communities.id, communityId));
  }

  /** Inserts unless already a member (undefined then). */
  async insertMembership(db: Executor, values: { communityId: string; userId: string; role: Role; memberName: string }) {
    const [row] = await db.insert(memberships).values(values).onConflictDoNothing().returning();
    return row;
  }

  async findMembership(db: Executor, communityId: string, userId: string): Promise<MembershipRow | undefined> {
    const [row] = await db
      .select()
      .from(memberships)
      .where(and(eq(memberships.communityId, communityId), eq(memberships.userId, userId)))
      .limit(1);
    return row;
  }

  async setRole(db: Executor, communityId: string, userId: string, role: Role): Promise<MembershipRow | undefined> {
    const [row] = await db
      .update(memberships)
      .set({ role })
      .where(and(eq(memberships.communityId, communityId), eq(memberships.userId, userId)))
      .returning();
    return row;
  }

  async deleteMembership(db: Executor, communityId: string, userId: string): Promise<boolean> {
    const deleted = await db
      .delete(memberships)
      .where(and(eq(memberships.communityId, communityId), eq(memberships.userId, userId)))
      .returning({ userId: memberships.userId });
    return deleted.length > 0;
  }

  async countOwners(db: Executor, communityId: string): Promise<number> {
    const [row] = await db
      .select({ owners: sql<number>`count(*)::int` })
      .from(memberships)
      .where(and(eq(memberships.communityId, communityId), eq(memberships.role, "owner")));
    return row?.owners ?? 0;
  }

  /** One query for a page, in name order along the (community, name, user) index; emails only when asked. */
  async membersPage(db: Executor, query: MembersPageQuery): Promise<MemberRow[]> {
    const conditions = [eq(memberships.communityId, query.communityId)];
    if (query.after) {
      const { name, userId } = query.after;
      conditions.push(or(gt(memberships.memberName, name), and(eq(memberships.memberName, name), gt(memberships.userId, userId)))!);
    }
    if (query.search) conditions.push(ilike(memberships.memberName, likeContains(query.search)));
    const columns = { userId: memberships.userId, name: memberships.memberName, role: memberships.role, joinedAt: memberships.joinedAt };
    const base = query.adminView
      ? db
          .select({ ...columns, email: users.email, duesPaidUntil: memberships.duesPaidUntil })
          .from(memberships)
          .innerJoin(users, eq(users.id, memberships.userId))
      : db.select(columns).from(memberships);
    return base
      .where(and(...conditions))
      .orderBy(asc(memberships.memberName), asc(memberships.userId))
      .limit(query.limit + 1);
  }

  /** The caller's communities, most recently joined first. */
  async communitiesOf(db: Executor, userId: string, limit: number, before: TimestampIdCursor | undefined) {
    return db
      .select({ community: communities, role: memberships.role, joinedAtKey: timestampKeyOf(memberships.joinedAt) })
      .from(memberships)
      .innerJoin(communities, eq(communities.id, memberships.communityId))
      .where(and(eq(memberships.userId, userId), before ? beforeCursor(memberships.joinedAt, memberships.communityId, before) : undefined))
      .orderBy(desc(memberships.joinedAt), desc(memberships.communityId))
      .limit(limit + 1);
  }
}
