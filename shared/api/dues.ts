import { z } from "zod";

/** ISO 4217 codes Stripe takes for dues; lower-case, as Stripe writes them. */
export const DUES_CURRENCIES = ["eur", "usd", "gbp", "chf", "cad"] as const;

export const duesSettingsBody = z.object({
  /** Null: the community asks no dues. At least 1.00 (Stripe's minimum charge is about 0.50). */
  amountCents: z
    .number({ error: "must be a whole number of cents, or null" })
    .int("must be a whole number of cents")
    .min(100, "at least 100")
    .max(1_000_000, "at most 1000000")
    .nullable(),
  currency: z.enum(DUES_CURRENCIES, { error: `one of ${DUES_CURRENCIES.join(", ")}` }),
  periodMonths: z.number({ error: "must be a whole number" }).int("must be a whole number").min(1, "at least 1").max(36, "at most 36"),
});
export type DuesSettingsBody = z.infer<typeof duesSettingsBody>;

/** The community's dues, and where the caller stands. */
export interface DuesDto {
  amountCents: number | null;
  currency: string;
  periodMonths: number;
  /** Whether a member can pay now: dues are set and the community's account accepts charges. */
  payable: boolean;
  /** When the caller's paid dues run out (null: never paid). */
  paidUntil: string | null;
}

/** The community's Stripe Connect account, for its admins. */
export interface PayoutsDto {
  connected: boolean;
  chargesEnabled: boolean;
  payoutsEnabled: boolean;
  detailsSubmitted: boolean;
  /** What Stripe still needs before charges or payouts. */
  requirementsDue: string[];
}

export interface PaymentDto {
  id: string;
  userId: string | null;
  kind: string;
  amountCents: number;
  applicationFeeCents: number;
  currency: string;
  paidUntil: string | null;
  createdAt: string;
}
