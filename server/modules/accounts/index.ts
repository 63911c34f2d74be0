import type { Router } from "express";
import type { Container } from "../../container.ts";
import { emailOutbox } from "../emails/index.ts";
import { AccountsRepository } from "./accounts.repo.ts";
import { AccountsService } from "./accounts.service.ts";
import { accountsRoutes } from "./accounts.routes.ts";
import { PasswordResetsRepository } from "./password-resets.repo.ts";
import { ThrottleRepository } from "./throttle.repo.ts";
import { ResetRequestThrottle, SignInThrottle } from "./throttles.ts";

export interface AccountsModule {
  routes: Router;
  /** What `authenticate` needs: the user of a session, with their session version. */
  sessionUsers: Pick<AccountsService, "findSessionUser">;
}

/** Accounts: /auth/... */
export function accountsModule(container: Container): AccountsModule {
  const { db } = container;
  const counters = new ThrottleRepository();
  const service = new AccountsService(
    db,
    new AccountsRepository(),
    new PasswordResetsRepository(),
    new SignInThrottle(db, counters),
    new ResetRequestThrottle(db, counters),
    emailOutbox(container),
    container.cache,
    container.config.appUrl,
  );
  return { routes: accountsRoutes(service, container.rateLimits), sessionUsers: service };
}
