import type Stripe from "stripe";
import { AppError } from "../../core/app-error.ts";

/** What the payment flows need from the configuration. */
export interface PaymentsSettings {
  /** Stripe price ids of the paid plans, by plan id. */
  prices: Partial<Record<string, string>>;
  /** The platform's share of a dues payment, in percent. */
  applicationFeePercent: number;
  /** Whether the community is the merchant of record of its dues (`on_behalf_of`). */
  duesOnBehalfOf: boolean;
  /** A page of the web app about a community, where Stripe sends the browser back. */
  pageUrl(slug: string, page: string): string;
}

export function paymentsSettings(
  appUrl: string,
  stripe: { prices: Partial<Record<string, string>>; applicationFeePercent: number; duesOnBehalfOf: boolean } | undefined,
): PaymentsSettings {
  return {
    prices: stripe?.prices ?? {},
    applicationFeePercent: stripe?.applicationFeePercent ?? 0,
    duesOnBehalfOf: stripe?.duesOnBehalfOf ?? false,
    pageUrl: (slug, page) => new URL(`/communities/${encodeURIComponent(slug)}/${page}`, appUrl).toString(),
  };
}

/** The Stripe client, or 503 on a server where payments are not configured. */
export function requireStripe(stripe: Stripe | undefined): Stripe {
  if (!stripe) throw new AppError("unavailable", "payments are not configured on this server");
  return stripe;
}
