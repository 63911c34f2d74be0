import { createHash, timingSafeEqual } from "node:crypto";
import type { Request, RequestHandler } from "express";
import { AppError } from "../../core/app-error.ts";

const BEARER = /^Bearer\s+(\S+)\s*$/i;

const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();

/**
 * True when the request carries `Authorization: Bearer <OPS_TOKEN>`, never when
 * no token is configured. The digests are compared, in constant time and at
 * equal length, so the comparison says nothing about the token's length or prefix.
 */
export function hasOpsToken(req: Request, token: string | undefined): boolean {
  const given = BEARER.exec(req.get("authorization") ?? "")?.[1];
  if (!token || given === undefined) return false;
  return timingSafeEqual(digest(given), digest(token));
}

/**
 * The gate of `/api/ops`: with a token configured, only its bearer passes (401 otherwise). Without one, production
 * hides the operators' endpoints (404, as if absent); a development run opens them, so that a newcomer on the
 * embedded default can read the captured emails.
 */
export function opsOnly(token: string | undefined, production: boolean): RequestHandler {
  return (req, _res, next) => {
    if (token === undefined) {
      if (production) throw new AppError("not_found", `no route for ${req.method} ${req.originalUrl.split("?")[0]}`);
      next();
      return;
    }
    if (!hasOpsToken(req, token)) throw new AppError("unauthenticated", "send the operators' token: Authorization: Bearer <OPS_TOKEN>");
    next();
  };
}
