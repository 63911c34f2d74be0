import type { CommunityDto, MemberDto, MembershipDto, NewsDto, Role } from "../../../shared/api/communities.ts";
import type { CommunityRow, MembershipRow, NewsRow } from "../../../shared/schema/index.ts";

export function presentCommunity(row: CommunityRow): CommunityDto {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    description: row.description,
    memberCount: row.memberCount,
    plan: row.plan,
    joinPolicy: row.joinPolicy,
  };
}

export function presentMembership(row: MembershipRow): MembershipDto {
  return { communityId: row.communityId, userId: row.userId, role: row.role, joinedAt: row.joinedAt.toISOString() };
}

export interface MemberRow {
  userId: string;
  name: string;
  role: Role;
  joinedAt: Date;
  email?: string | undefined;
}

export function presentMember(row: MemberRow): MemberDto {
  const member: MemberDto = { userId: row.userId, name: row.name, role: row.role, joinedAt: row.joinedAt.toISOString() };
  if (row.email !== undefined) member.email = row.email;
  return member;
}

export function presentNews(row: NewsRow): NewsDto {
  return {
    id: row.id,
    communityId: row.communityId,
    title: row.title,
    body: row.body,
    authorId: row.authorId,
    createdAt: row.createdAt.toISOString(),
  };
}
