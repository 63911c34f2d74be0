import type { Router } from "express";
import type { Container } from "../../container.ts";
import type { SessionUserLookup } from "../../http/middleware/auth.ts";
import { AccountsRepository } from "./accounts.repo.ts";
import { AccountsService } from "./accounts.service.ts";
import { accountsRoutes } from "./accounts.routes.ts";
import { CredentialsRepository } from "./credentials.repo.ts";
import { LoginFailuresRepository } from "./login-failures.repo.ts";
import { SIGN_IN_POLICY, SignInThrottle } from "./sign-in-throttle.ts";

export function accountsModule(container: Container): { routes: Router; sessionUsers: SessionUserLookup } {
  const repository = new AccountsRepository(container.db);
  const service = new AccountsService(
    repository,
    new CredentialsRepository(container.db),
    new SignInThrottle(new LoginFailuresRepository(container.db, SIGN_IN_POLICY)),
    container.config.appUrl,
  );
  return { routes: accountsRoutes(service), sessionUsers: repository };
}
