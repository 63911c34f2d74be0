import type { Response } from "express";

/**
 * For answers that are the same for everyone (a community's public profile, the plans): browsers and shared caches
 * may keep them `maxAgeS`, then serve them while they revalidate for `staleS` more. Express adds an ETag to every JSON
 * answer and turns a matching `If-None-Match` into a 304 without a body.
 */
export function cachePublicly(res: Response, { maxAgeS, staleS }: { maxAgeS: number; staleS: number }): void {
  res.set("Cache-Control", `public, max-age=${maxAgeS}, stale-while-revalidate=${staleS}`);
}
