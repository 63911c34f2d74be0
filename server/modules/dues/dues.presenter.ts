import type { DuesDto, PaymentDto, PayoutsDto } from "../../../shared/api/dues.ts";
import type { ConnectedAccountRow, PaymentRow } from "../../../shared/schema/index.ts";
import type { DuesView } from "./dues.service.ts";

export function presentDues({ community, account, paidUntil }: DuesView): DuesDto {
  return {
    amountCents: community.duesAmountCents,
    currency: community.duesCurrency,
    periodMonths: community.duesPeriodMonths,
    payable: community.duesAmountCents !== null && account?.chargesEnabled === true,
    paidUntil: paidUntil?.toISOString() ?? null,
  };
}

export function presentPayouts(account: ConnectedAccountRow | undefined): PayoutsDto {
  return {
    connected: account !== undefined,
    chargesEnabled: account?.chargesEnabled ?? false,
    payoutsEnabled: account?.payoutsEnabled ?? false,
    detailsSubmitted: account?.detailsSubmitted ?? false,
    requirementsDue: account?.requirementsDue ?? [],
  };
}

export function presentPayment(payment: PaymentRow): PaymentDto {
  return {
    id: payment.id,
    userId: payment.userId,
    kind: payment.kind,
    amountCents: payment.amountCents,
    applicationFeeCents: payment.applicationFeeCents,
    currency: payment.currency,
    paidUntil: payment.paidUntil?.toISOString() ?? null,
    createdAt: payment.createdAt.toISOString(),
  };
}
