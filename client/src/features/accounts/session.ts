import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ChangePasswordBody, LoginBody, RegisterBody, UserDto, UserResponse } from "../../../../shared/api/auth.ts";
import { api, ApiError } from "../../api/http.ts";

const ME = ["me"] as const;

/**
 * Who was signed in on this device when the server last said so: without network (a scanner reopened at the door), the
 * pages carry on as them, and their requests wait in the queue or fail on their own. Signing out forgets it.
 */
const REMEMBERED = "signedInUser";

function remember(user: UserDto | null): void {
  if (user) localStorage.setItem(REMEMBERED, JSON.stringify(user));
  else localStorage.removeItem(REMEMBERED);
}

function remembered(): UserDto | undefined {
  const saved = localStorage.getItem(REMEMBERED);
  return saved ? (JSON.parse(saved) as UserDto) : undefined;
}

/** The signed-in user, or null; undefined while the first answer is awaited. */
export function useMe() {
  return useQuery({
    queryKey: ME,
    queryFn: async (): Promise<UserDto | null> => {
      try {
        const { user } = await api<UserResponse>("/auth/me");
        remember(user);
        return user;
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) {
          remember(null);
          return null;
        }
        const offline = error instanceof ApiError && error.code === "network" && remembered();
        if (offline) return offline;
        throw error;
      }
    },
    // Asked even when the browser says it is offline: the answer then comes from what this device remembers.
    networkMode: "always",
    staleTime: 5 * 60_000,
  });
}

/** Signing in or out changes every answer: everything cached for the previous person is dropped. */
function useSessionChange() {
  const client = useQueryClient();
  return (user: UserDto | null) => {
    client.clear();
    remember(user);
    client.setQueryData(ME, user);
  };
}

export function useSignIn() {
  const changed = useSessionChange();
  return useMutation({
    mutationFn: (body: LoginBody) => api<UserResponse>("/auth/login", { method: "POST", body }),
    onSuccess: ({ user }) => changed(user),
  });
}

export function useRegister() {
  const changed = useSessionChange();
  return useMutation({
    mutationFn: (body: RegisterBody) => api<UserResponse>("/auth/register", { method: "POST", body }),
    onSuccess: ({ user }) => changed(user),
  });
}

export function useSignOut() {
  const changed = useSessionChange();
  return useMutation({
    mutationFn: () => api<void>("/auth/logout", { method: "POST" }),
    onSuccess: () => changed(null),
  });
}

export function useChangePassword() {
  return useMutation({ mutationFn: (body: ChangePasswordBody) => api<void>("/auth/password", { method: "POST", body }) });
}

export function useRequestPasswordReset() {
  return useMutation({ mutationFn: (email: string) => api<void>("/auth/password-reset", { method: "POST", body: { email } }) });
}

export function useConfirmPasswordReset() {
  return useMutation({
    mutationFn: (body: { token: string; password: string }) => api<void>("/auth/password-reset/confirm", { method: "POST", body }),
  });
}
