import type { Request } from "express";
import { AppError } from "../app-error.ts";

/** The signed-in user's id, or 401 unauthenticated. */
export function currentUserId(req: Request): string {
  const userId = req.session?.userId;
  if (!userId) throw new AppError("unauthenticated", "sign in first");
  return userId;
}
