import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ChangePasswordBody, LoginBody, RegisterBody, UserDto, UserResponse } from "../../../../shared/api/auth.ts";
import { api, ApiError } from "../../api/http.ts";

const ME = ["me"] as const;

/** The signed-in user, or null; undefined while the first answer is awaited. */
export function useMe() {
  return useQuery({
    queryKey: ME,
    queryFn: async (): Promise<UserDto | null> => {
      try {
        return (await api<UserResponse>("/auth/me")).user;
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) return null;
        throw error;
      }
    },
    staleTime: 5 * 60_000,
  });
}

/** Signing in or out changes every answer: everything cached for the previous person is dropped. */
function useSessionChange() {
  const client = useQueryClient();
  return (user: UserDto | null) => {
    client.clear();
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
