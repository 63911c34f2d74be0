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
import { currentUser, signedIn } from "../../http/middleware/auth.ts";
import { signIn, signOut } from "../../http/session-control.ts";
import { SESSION_COOKIE } from "../../http/middleware/session.ts";
import { byAddress, routeLimit } from "../../http/middleware/rate-limit.ts";
import type { RateLimits } from "../../infra/rate-limits.ts";
import type { AccountsService } from "./accounts.service.ts";
import { presentUser } from "./accounts.presenter.ts";

export function accountsRoutes(accounts: AccountsService, limits: RateLimits): Router {
  const router = Router();

  router.post(
    "/auth/register",
    routeLimit(limits.registration, byAddress),
    validated({ body: registerBody }, async ({ body }, req, res) => {
      const user = await accounts.register(body);
      await signIn(req, user);
      res.status(201).json({ user: presentUser(user) } satisfies UserResponse);
    }),
  );

  router.post(
    "/auth/login",
    routeLimit(limits.signIn, byAddress),
    validated({ body: loginBody }, async ({ body }, req, res) => {
      const user = await accounts.authenticate(body, { ip: req.ip });
      await signIn(req, user);
      res.json({ user: presentUser(user) } satisfies UserResponse);
    }),
  );

  router.post(
    "/auth/logout",
    validated({}, async (_input, req, res) => {
      if (req.user) await signOut(req);
      res.clearCookie(SESSION_COOKIE);
      res.status(204).end();
    }),
  );

  router.get(
    "/auth/me",
    signedIn,
    validated({}, (_input, req, res) => {
      res.json({ user: currentUser(req) } satisfies UserResponse);
    }),
  );

  /** 202 whether or not the email has an account. */
  router.post(
    "/auth/password-reset",
    routeLimit(limits.passwordReset, byAddress),
    validated({ body: passwordResetBody }, async ({ body }, req, res) => {
      await accounts.requestPasswordReset(body.email, { ip: req.ip });
      res.status(202).json({});
    }),
  );

  router.post(
    "/auth/password-reset/confirm",
    validated({ body: passwordResetConfirmBody }, async ({ body }, _req, res) => {
      await accounts.confirmPasswordReset(body);
      res.status(204).end();
    }),
  );

  /** Ends every other session of the account; this one continues under a new id. */
  router.post(
    "/auth/password",
    signedIn,
    validated({ body: changePasswordBody }, async ({ body }, req, res) => {
      const signedInAgain = await accounts.changePassword(currentUser(req).id, body, { ip: req.ip });
      await signIn(req, signedInAgain);
      res.status(204).end();
    }),
  );

  return router;
}
