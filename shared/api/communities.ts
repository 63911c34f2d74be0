import { z } from "zod";
import { email } from "./auth.ts";
import { pageQuery } from "./pagination.ts";
import { displayName, line, paragraphs, requiredLine } from "./text.ts";

export const ROLES = ["owner", "admin", "staff", "member"] as const;
export type Role = (typeof ROLES)[number];

export const JOIN_POLICIES = ["open", "invite"] as const;

export const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$/;
export const slug = z.string().trim().toLowerCase().regex(SLUG_PATTERN, "lowercase letters, digits and inner dashes, 1 to 48 characters");

export const slugParams = z.object({ slug });

const name = displayName(100);
const description = paragraphs(2_000);

export const createCommunityBody = z.object({
  name,
  slug: slug.optional(),
  description: description.optional(),
  joinPolicy: z.enum(JOIN_POLICIES).optional(),
});
export type CreateCommunityBody = z.infer<typeof createCommunityBody>;

export const updateCommunityBody = z
  .object({ name: name.optional(), description: description.optional(), joinPolicy: z.enum(JOIN_POLICIES).optional() })
  .refine((body) => Object.values(body).some((value) => value !== undefined), "nothing to update");
export type UpdateCommunityBody = z.infer<typeof updateCommunityBody>;

export interface CommunityDto {
  id: string;
  slug: string;
  name: string;
  description: string;
  memberCount: number;
  plan: string;
  joinPolicy: (typeof JOIN_POLICIES)[number];
}

/** A community in the caller's own list, with the caller's role in it. */
export interface MyCommunityDto extends CommunityDto {
  role: Role;
}

export const memberParams = z.object({ slug, userId: z.uuid("must be a user id") });

export const membersQuery = pageQuery.extend({ q: line(100).optional() });
export type MembersQuery = z.infer<typeof membersQuery>;

export const addMemberBody = z.object({ email, role: z.enum(ROLES).optional() });
export const changeRoleBody = z.object({ role: z.enum(ROLES) });

export interface MemberDto {
  userId: string;
  name: string;
  role: Role;
  joinedAt: string;
  /** Only for admins and owners. */
  email?: string;
  /** Only for admins and owners: when the member's dues run out (null: never paid); a past date means they lapsed. */
  duesPaidUntil?: string | null;
}

/** `GET /api/communities/:slug/membership`: the caller's own place in the community. */
export interface MyMembershipResponse {
  membership: { role: Role };
}

export interface MembershipDto {
  communityId: string;
  userId: string;
  role: Role;
  joinedAt: string;
}

export const createNewsBody = z.object({
  title: requiredLine(200),
  body: paragraphs(20_000).refine((value) => value.length > 0, "required"),
});

export interface NewsDto {
  id: string;
  communityId: string;
  title: string;
  body: string;
  authorId: string | null;
  createdAt: string;
}
