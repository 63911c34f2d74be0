import type { Router } from "express";
import type { Container } from "../../container.ts";
import { AccountsRepository } from "./accounts.repo.ts";
import { AccountsService } from "./accounts.service.ts";
import { accountsRoutes } from "./accounts.routes.ts";

export function accountsModule(container: Container): Router {
  return accountsRoutes(new AccountsService(new AccountsRepository(container.db)));
}
