import net from "node:net";
import type { Request, RequestHandler, Response } from "express";
import { AppError } from "../../core/app-error.ts";
import { rateLimitRejections } from "../../infra/metrics.ts";
import type { Limit, LimitCount, RateLimits } from "../../infra/rate-limits.ts";
import { currentUser } from "./auth.ts";

/**
 * Rate limits of the API (docs/operations.md, Rate limits). Mounted after the signed-in user is known; health,
 * metrics, webhooks and operators' routes are mounted before and never counted. Each limit a request is counted
 * against is advertised in the RateLimit-Policy and RateLimit headers (draft-ietf-httpapi-ratelimit-headers-11),
 * except the instance's global one, which is no client's allowance.
 */

/** The client's address as a limit's key: IPv4 as is, IPv6 reduced to its /64 (one home, one phone, one server). */
export function addressKey(ip: string | undefined): string {
  if (!ip) return "unknown";
  const address = ip.split("%")[0]!;
  if (!net.isIPv6(address)) return address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  return `${ipv6Groups(address).slice(0, 4).join(":")}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address, in lower-case hex without leading zeros (an IPv4 tail is two). */
function ipv6Groups(address: string): string[] {
  const words = (part: string) => (part === "" ? [] : part.split(":").flatMap((word) => (word.includes(".") ? ["0", "0"] : [word])));
  const [head = "", tail] = address.split("::");
  const before = words(head);
  const after = tail === undefined ? [] : words(tail);
  const groups = [...before, ...Array<string>(8 - before.length - after.length).fill("0"), ...after];
  return groups.map((group) => parseInt(group, 16).toString(16));
}

/** Appended, so that every limit counted on the way (the client's, a route's) is listed. */
function advertise(res: Response, count: LimitCount): void {
  res.append("RateLimit-Policy", `"${count.policy}";q=${count.quota};w=${count.windowS}`);
  res.append("RateLimit", `"${count.policy}";r=${count.remaining};t=${count.resetS}`);
}

function refuseIfOver(count: LimitCount): void {
  if (count.allowed) return;
  rateLimitRejections.inc({ limiter: count.policy });
  throw new AppError("rate_limited", "too many requests, retry later", { retryAfterS: count.resetS, extra: { policy: count.policy } });
}

/** Every API request: the instance's global limit, and the user's plan allowance or, signed out, the address's. */
export function rateLimit(limits: RateLimits): RequestHandler {
  return async (req, res, next) => {
    const [client, key] = req.user ? [limits.perUser(req.user.requestsPerMinute), req.user.id] : [limits.anonymous, addressKey(req.ip)];
    const [instance, counted] = await Promise.all([limits.global.count("instance"), client.count(key)]);
    advertise(res, counted);
    refuseIfOver(instance);
    refuseIfOver(counted);
    next();
  };
}

/** A route's own, tighter limit, on top of the client's. */
export function routeLimit(limit: Limit, keyOf: (req: Request) => string): RequestHandler {
  return async (req, res, next) => {
    const counted = await limit.count(keyOf(req));
    advertise(res, counted);
    refuseIfOver(counted);
    next();
  };
}

export const byAddress = (req: Request): string => addressKey(req.ip);

/** Placed after `signedIn`. */
export const byUser = (req: Request): string => currentUser(req).id;
