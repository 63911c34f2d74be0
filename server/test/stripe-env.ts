import type { FakeStripe } from "./fake-stripe.ts";
import type { EnvOverrides } from "./harness.ts";

export const PLATFORM_SECRET = "whsec_platform_test_secret";
export const CONNECT_SECRET = "whsec_connect_test_secret";

/** A server (or worker) whose Stripe is the test double, with both webhook endpoints' secrets and the plans' prices. */
export const stripeEnv = (fake: FakeStripe): EnvOverrides => ({
  STRIPE_SECRET_KEY: "sk_test_inbox",
  STRIPE_API_URL: fake.url,
  STRIPE_WEBHOOK_SECRET: PLATFORM_SECRET,
  STRIPE_CONNECT_WEBHOOK_SECRET: CONNECT_SECRET,
  STRIPE_PRICE_PRO: "price_pro",
  STRIPE_PRICE_PREMIUM: "price_premium",
});
