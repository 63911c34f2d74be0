import { Router } from "express";
import { loginBody, registerBody, type UserResponse } from "../../../shared/api/auth.ts";
import { validated } from "../../http/validate.ts";
import { currentUser } from "../../http/middleware/auth.ts";
import { signIn, signOut } from "../../http/session-control.ts";
import { SESSION_COOKIE } from "../../http/middleware/session.ts";
import type { AccountsService } from "./accounts.service.ts";
import { presentUser } from "./accounts.presenter.ts";

export function accountsRoutes(accounts: AccountsService): Router {
  const router = Router();

  router.post(
    "/register",
    validated({ body: registerBody }, async ({ body }, req, res) => {
      const user = await accounts.register(body);
      await signIn(req, user);
      res.status(201).json({ user: presentUser(user) } satisfies UserResponse);
    }),
  );

  router.post(
    "/login",
    validated({ body: loginBody }, async ({ body }, req, res) => {
      const user = await accounts.authenticate(body);
      await signIn(req, user);
      res.json({ user: presentUser(user) } satisfies UserResponse);
    }),
  );

  router.post("/logout", async (req, res) => {
    if (req.user) await signOut(req);
    res.clearCookie(SESSION_COOKIE);
    res.status(204).end();
  });

  router.get("/me", async (req, res) => {
    res.json({ user: currentUser(req) } satisfies UserResponse);
  });

  return router;
}
