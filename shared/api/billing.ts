import { z } from "zod";

/** The paid plans a community may subscribe to through Checkout (free needs no checkout). */
export const PAID_PLANS = ["pro", "premium"] as const;

export const subscriptionCheckoutBody = z.object({ planId: z.enum(PAID_PLANS, { error: "must be pro or premium" }) });
export type SubscriptionCheckoutBody = z.infer<typeof subscriptionCheckoutBody>;

/** Where to send the browser: a Stripe-hosted page (Checkout, the customer portal, Connect onboarding). */
export interface RedirectDto {
  url: string;
}
