import type { CommunityDto, MemberDto, MembershipDto, MyCommunityDto, NewsDto } from "../../../shared/api/communities.ts";
import type { MembershipRow, NewsRow } from "../../../shared/schema/index.ts";
import type { CommunityProfile, MemberRow } from "./communities.repo.ts";
import type { MyCommunityRow } from "./communities.service.ts";

export function presentCommunity(row: CommunityProfile): CommunityDto {
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

export function presentMyCommunity(row: MyCommunityRow): MyCommunityDto {
  return { ...presentCommunity(row.community), role: row.role };
}

export function presentMembership(row: MembershipRow): MembershipDto {
  return { communityId: row.communityId, userId: row.userId, role: row.role, joinedAt: row.joinedAt.toISOString() };
}

export function presentMember(row: MemberRow): MemberDto {
  const member: MemberDto = { userId: row.userId, name: row.name, role: row.role, joinedAt: row.joinedAt.toISOString() };
  if (row.email !== undefined) member.email = row.email;
  if (row.duesPaidUntil !== undefined) member.duesPaidUntil = row.duesPaidUntil?.toISOString() ?? null;
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
