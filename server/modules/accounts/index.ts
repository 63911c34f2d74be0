import type { Router } from "express";
import type { Container } from "../../container.ts";
import type { SessionUserLookup } from "../../http/middleware/auth.ts";
import { AccountsRepository } from "./accounts.repo.ts";
import { AccountsService } from "./accounts.service.ts";
import { accountsRoutes } from "./accounts.routes.ts";

export function accountsModule(container: Container): { routes: Router; sessionUsers: SessionUserLookup } {
  const repository = new AccountsRepository(container.db);
  return { routes: accountsRoutes(new AccountsService(repository)), sessionUsers: repository };
}
