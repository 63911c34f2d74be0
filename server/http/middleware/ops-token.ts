import { createHash, timingSafeEqual } from "node:crypto";
import type { Request } from "express";

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
