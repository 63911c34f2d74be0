import { Router } from "express";
import {
  changePasswordBody,
  loginBody,
  passwordResetBody,
  passwordResetConfirmBody,
  registerBody,
  type UserResponse,
} from "../../../shared/api/auth.ts";
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
      const user = await accounts.authenticate(body, { ip: req.ip });
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

  /** 202 whether or not the email has an account. */
  router.post(
    "/password-reset",
    validated({ body: passwordResetBody }, async ({ body }, _req, res) => {
      await accounts.requestPasswordReset(body.email);
      res.status(202).json({});
    }),
  );

  router.post(
    "/password-reset/confirm",
    validated({ body: passwordResetConfirmBody }, async ({ body }, _req, res) => {
      await accounts.confirmPasswordReset(body);
      res.status(204).end();
    }),
  );

  /** Ends every other session of the account; this one continues under a new id. */
  router.post(
    "/password",
    (req, _res, next) => {
      currentUser(req); // 401 before any validation of the body
      next();
    },
    validated({ body: changePasswordBody }, async ({ body }, req, res) => {
      const user = currentUser(req);
      const signedIn = await accounts.changePassword(user.id, body, { ip: req.ip });
      await signIn(req, signedIn);
      res.status(204).end();
    }),
  );

  return router;
}
