import type { Router } from "express";
import type { Database } from "../../infra/db/client.ts";
import { AccountsRepository } from "./accounts.repo.ts";
import { AccountsService } from "./accounts.service.ts";
import { accountsRoutes } from "./accounts.routes.ts";

export function accountsModule(db: Database): Router {
  return accountsRoutes(new AccountsService(new AccountsRepository(db)));
}
