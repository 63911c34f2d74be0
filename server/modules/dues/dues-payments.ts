import type Stripe from "stripe";
import { z } from "zod";
import type { PaymentRow } from "../../../shared/schema/index.ts";
import type { Executor } from "../../infra/db/client.ts";
import { DuesRepository } from "./dues.repo.ts";

/** What a dues Checkout session carries, so that its payment is recorded for whom and for how long it was sold. */
const duesMetadata = z.object({
  kind: z.literal("dues"),
  community_id: z.uuid(),
  user_id: z.uuid(),
  period_months: z.coerce.number().int().min(1),
  application_fee_cents: z.coerce.number().int().min(0),
});

export interface RecordedPayment {
  payment: PaymentRow;
  /** Undefined when the payer had left the community: the money is recorded, there is no membership to extend. */
  paidUntil: Date | undefined;
}

/** Paid dues, as the Stripe event handlers apply them in the background worker. */
export class DuesPayments {
  constructor(private readonly repo = new DuesRepository()) {}

  /**
   * Records a paid dues session (as Stripe says it is now) in the caller's transaction, once per session however often
   * its event comes: a payment row, and the member's dues extended by the period they paid for. Undefined for a session
   * that is not paid dues.
   */
  async record(tx: Executor, session: Stripe.Checkout.Session): Promise<RecordedPayment | undefined> {
    const dues = duesMetadata.safeParse(session.metadata ?? {});
    if (session.mode !== "payment" || session.payment_status !== "paid" || !dues.success) return undefined;
    const {
      community_id: communityId,
      user_id: userId,
      period_months: periodMonths,
      application_fee_cents: applicationFeeCents,
    } = dues.data;
    const payment = await this.repo.insertPayment(tx, {
      communityId,
      userId,
      stripeCheckoutSessionId: session.id,
      stripePaymentIntentId: typeof session.payment_intent === "string" ? session.payment_intent : (session.payment_intent?.id ?? null),
      amountCents: session.amount_total ?? 0,
      applicationFeeCents,
      currency: session.currency ?? "eur",
    });
    if (!payment) return undefined;
    const paidUntil = await this.repo.extendDues(tx, communityId, userId, periodMonths);
    if (paidUntil) await this.repo.setPaidUntil(tx, payment.id, paidUntil);
    return { payment: { ...payment, paidUntil: paidUntil ?? null }, paidUntil };
  }
}
