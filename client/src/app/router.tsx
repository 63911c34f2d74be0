import { createRootRoute, createRoute, createRouter, lazyRouteComponent } from "@tanstack/react-router";
import { Layout } from "./layout.tsx";
import { CrashPage, NotFoundPage } from "./not-found-page.tsx";
import { HomePage } from "../features/communities/home-page.tsx";
import { CommunityPage } from "../features/communities/community-page.tsx";
import { SignInPage } from "../features/accounts/sign-in-page.tsx";
import { SignUpPage } from "../features/accounts/sign-up-page.tsx";
import { EventPage } from "../features/events/event-page.tsx";
import { MyTicketsPage } from "../features/tickets/my-tickets-page.tsx";
import { TicketPage } from "../features/tickets/ticket-page.tsx";

const root = createRootRoute({ component: Layout, notFoundComponent: NotFoundPage, errorComponent: CrashPage });

/** `?next=` and `?token=` style parameters: a string, or absent. */
const stringParam = (name: string) => (search: Record<string, unknown>) => {
  const value = search[name];
  return { [name]: typeof value === "string" ? value : undefined };
};

const page = (path: string, component: Parameters<typeof createRoute>[0]["component"]) =>
  createRoute({ getParentRoute: () => root, path, component });

const routeTree = root.addChildren([
  page("/", HomePage),
  createRoute({ getParentRoute: () => root, path: "/sign-in", component: SignInPage, validateSearch: stringParam("next") }),
  page("/sign-up", SignUpPage),
  // Pages a person opens once in a while: loaded when opened, not with every page.
  createRoute({
    getParentRoute: () => root,
    path: "/reset-password",
    component: lazyRouteComponent(() => import("../features/accounts/reset-password-page.tsx"), "ResetPasswordPage"),
    validateSearch: stringParam("token"),
  }),
  page(
    "/account",
    lazyRouteComponent(() => import("../features/accounts/account-page.tsx"), "AccountPage"),
  ),
  page("/communities/$slug", CommunityPage),
  createRoute({ getParentRoute: () => root, path: "/communities/$slug/$tab", component: CommunityPage }),
  page("/events/$eventId", EventPage),
  // The scanners load the camera decoder: pages of their own, loaded only when opened.
  page(
    "/events/$eventId/scan",
    lazyRouteComponent(() => import("../features/checkins/scanner-page.tsx"), "ScannerPage"),
  ),
  page(
    "/events/$eventId/door",
    lazyRouteComponent(() => import("../features/checkins/door-display-page.tsx"), "DoorDisplayPage"),
  ),
  page(
    "/events/$eventId/self-checkin",
    lazyRouteComponent(() => import("../features/checkins/self-checkin-page.tsx"), "SelfCheckinPage"),
  ),
  page("/tickets", MyTicketsPage),
  page("/tickets/$ticketId", TicketPage),
  page(
    "/ops",
    lazyRouteComponent(() => import("../features/ops/ops-page.tsx"), "OpsPage"),
  ),
]);

export const router = createRouter({ routeTree, defaultPreload: "intent", scrollRestoration: true });

declare module "@tanstack/react-router" {
  interface Register {
    router: typeof router;
  }
}
