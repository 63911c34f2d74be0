import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type {
  CommunityDto,
  CreateCommunityBody,
  MemberDto,
  MembershipDto,
  MyCommunityDto,
  MyMembershipResponse,
  NewsDto,
  Role,
  UpdateCommunityBody,
} from "../../../../shared/api/communities.ts";
import type { Page } from "../../../../shared/api/pagination.ts";
import { api, ApiError, query } from "../../api/http.ts";

const path = (slug: string, rest = "") => `/communities/${encodeURIComponent(slug)}${rest}`;

export const communityKeys = {
  mine: ["communities", "mine"] as const,
  profile: (slug: string) => ["communities", slug, "profile"] as const,
  role: (slug: string) => ["communities", slug, "role"] as const,
  members: (slug: string, q = "") => ["communities", slug, "members", q] as const,
  news: (slug: string) => ["communities", slug, "news"] as const,
  all: (slug: string) => ["communities", slug] as const,
};

/** A paginated list, one page after the other (`nextCursor`). */
export function usePagedList<Item>(key: readonly unknown[], listPath: (cursor: string | undefined) => string, enabled = true) {
  return useInfiniteQuery({
    queryKey: key,
    enabled,
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam, signal }) => api<Page<Item>>(listPath(pageParam), { signal }),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
}

export function useMyCommunities() {
  return usePagedList<MyCommunityDto>(communityKeys.mine, (cursor) => `/communities${query({ cursor })}`);
}

export function useCommunity(slug: string) {
  return useQuery({
    queryKey: communityKeys.profile(slug),
    queryFn: async ({ signal }) => (await api<{ community: CommunityDto }>(path(slug), { signal })).community,
  });
}

/** The caller's role in the community, or null when they are not a member (the API's 404). */
export function useMyRole(slug: string, signedIn: boolean) {
  return useQuery({
    queryKey: communityKeys.role(slug),
    enabled: signedIn,
    queryFn: async ({ signal }): Promise<Role | null> => {
      try {
        return (await api<MyMembershipResponse>(path(slug, "/membership"), { signal })).membership.role;
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return null;
        throw error;
      }
    },
  });
}

export function useCreateCommunity() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: CreateCommunityBody) => api<{ community: CommunityDto }>("/communities", { method: "POST", body }),
    onSuccess: () => client.invalidateQueries({ queryKey: communityKeys.mine }),
  });
}

export function useUpdateCommunity(slug: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: UpdateCommunityBody) => api<{ community: CommunityDto }>(path(slug), { method: "PATCH", body }),
    onSuccess: ({ community }) => client.setQueryData(communityKeys.profile(slug), community),
  });
}

/** Joining changes the caller's role and the member count: the community's queries are read again. */
export function useJoin(slug: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => api<{ membership: MembershipDto }>(path(slug, "/join"), { method: "POST" }),
    onSuccess: () =>
      Promise.all([
        client.invalidateQueries({ queryKey: communityKeys.all(slug) }),
        client.invalidateQueries({ queryKey: communityKeys.mine }),
      ]),
  });
}

export function useMembers(slug: string, q: string) {
  return usePagedList<MemberDto>(communityKeys.members(slug, q), (cursor) => path(slug, `/members${query({ q, cursor })}`));
}

function useCommunityChange<Input>(slug: string, change: (input: Input) => Promise<unknown>) {
  const client = useQueryClient();
  return useMutation({ mutationFn: change, onSuccess: () => client.invalidateQueries({ queryKey: communityKeys.all(slug) }) });
}

export const useAddMember = (slug: string) =>
  useCommunityChange(slug, (body: { email: string; role?: Role }) => api(path(slug, "/members"), { method: "POST", body }));

export const useChangeRole = (slug: string) =>
  useCommunityChange(slug, ({ userId, role }: { userId: string; role: Role }) =>
    api(path(slug, `/members/${userId}`), { method: "PATCH", body: { role } }),
  );

export const useRemoveMember = (slug: string) =>
  useCommunityChange(slug, (userId: string) => api(path(slug, `/members/${userId}`), { method: "DELETE" }));

export function useNews(slug: string) {
  return usePagedList<NewsDto>(communityKeys.news(slug), (cursor) => path(slug, `/news${query({ cursor })}`));
}

export const usePostNews = (slug: string) =>
  useCommunityChange(slug, (body: { title: string; body: string }) =>
    api<{ news: NewsDto }>(path(slug, "/news"), { method: "POST", body }),
  );
