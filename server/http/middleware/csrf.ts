import type { RequestHandler } from "express";
import { AppError } from "../../core/app-error.ts";

const STATE_CHANGING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * Refuses cross-site state-changing browser requests (mounted under /api).
 *
 * For POST, PUT, PATCH and DELETE:
 * - an `Origin` header must be the server's own origin (the scheme and `Host` the browser
 *   sent the request to: a page of this very server) or one of the trusted origins, exactly
 *   (`Origin: null`, sent by sandboxed frames, `file:` pages and privacy-minded redirects, never is);
 * - without `Origin`, a `Referer` header must come from a trusted origin;
 * - with neither, the request passes: browsers send `Origin` with every
 *   state-changing request, so it comes from a script, a scanner or curl, which
 *   carry no victim's cookie.
 * Each route then refuses a body that is not JSON (415, `validated` in
 * http/validate.ts): no form post reaches a handler, even from a trusted page.
 * The Stripe webhook (a raw body, signed) is mounted before this middleware.
 */
export function csrfProtection(trustedOrigins: readonly string[]): RequestHandler {
  const trusted = new Set(trustedOrigins.filter((origin) => origin !== "null"));
  return (req, _res, next) => {
    if (!STATE_CHANGING.has(req.method)) return next();
    const allowed = (origin: string) => trusted.has(origin) || origin === `${req.protocol}://${req.get("host")}`;
    const origin = req.get("origin");
    if (origin !== undefined) {
      if (!allowed(origin)) throw crossSite("Origin");
    } else {
      const referer = req.get("referer");
      if (referer !== undefined && !allowed(originOf(referer))) throw crossSite("Referer");
    }
    next();
  };
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "null";
  }
}

function crossSite(header: "Origin" | "Referer"): AppError {
  return new AppError("forbidden", `cross-site request refused: ${header} is not an allowed origin`);
}
