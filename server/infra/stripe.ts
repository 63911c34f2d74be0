import Stripe from "stripe";

export interface StripeSettings {
  secretKey: string;
  /** Another API server (a test double); unset: Stripe's own. */
  apiUrl?: string;
}

/** Each call gives up after 15 s; the SDK retries network errors, 409s and 5xx twice (with idempotency keys on POSTs). */
const TIMEOUT_MS = 15_000;
const NETWORK_RETRIES = 2;

/**
 * The Stripe client, pinned to the API version of the SDK it ships with (the shapes the payments module reads). Built
 * only by server/container.ts.
 */
export function createStripe({ secretKey, apiUrl }: StripeSettings): Stripe {
  const target = apiUrl ? new URL(apiUrl) : undefined;
  return new Stripe(secretKey, {
    timeout: TIMEOUT_MS,
    maxNetworkRetries: NETWORK_RETRIES,
    telemetry: false,
    appInfo: { name: "community-platform" },
    ...(target
      ? {
          host: target.hostname,
          port: Number(target.port) || (target.protocol === "https:" ? 443 : 80),
          protocol: target.protocol === "https:" ? "https" : "http",
        }
      : {}),
  });
}

/**
 * A Stripe failure that says nothing about the request itself: the network, Stripe's servers or its rate limit (the
 * SDK has already retried). The caller may retry later; the web answers 503.
 */
export function isStripeUnavailable(error: unknown): boolean {
  return (
    error instanceof Stripe.errors.StripeError && ["StripeConnectionError", "StripeAPIError", "StripeRateLimitError"].includes(error.type)
  );
}

/**
 * When Stripe, rate limiting, asks to be called again (its `Retry-After`, after the SDK's own retries); undefined for
 * any other error, or a rate limit that names no time.
 */
export function stripeRetryAt(error: unknown, now = Date.now()): Date | undefined {
  if (!(error instanceof Stripe.errors.StripeError) || error.type !== "StripeRateLimitError") return undefined;
  const seconds = Number((error.headers as Record<string, string | undefined> | undefined)?.["retry-after"]);
  return Number.isFinite(seconds) && seconds >= 0 ? new Date(now + seconds * 1000) : undefined;
}
