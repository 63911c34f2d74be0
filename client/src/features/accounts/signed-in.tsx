import { Navigate, useRouterState } from "@tanstack/react-router";
import type { ReactNode } from "react";
import type { UserDto } from "../../../../shared/api/auth.ts";
import { ErrorMessage, Loading } from "../../components/status.tsx";
import { useMe } from "./session.ts";

/** Pages for signed-in people: anyone else is sent to sign in, and brought back here afterwards. */
export function SignedIn({ children }: { children: (user: UserDto) => ReactNode }) {
  const me = useMe();
  const here = useRouterState({ select: (state) => state.location.href });
  if (me.error) return <ErrorMessage error={me.error} />;
  if (me.data === undefined) return <Loading />;
  if (me.data === null) return <Navigate to="/sign-in" search={{ next: here }} replace />;
  return <>{children(me.data)}</>;
}
