import type { WebhookEvent } from "../../../shared/api/payments.ts";
import type { StripeEventRow } from "../../../shared/schema/index.ts";

/** An inbox event as operators see it: never its payload (customers' details). */
export function presentWebhookEvent(row: StripeEventRow): WebhookEvent {
  return {
    id: row.id,
    type: row.type,
    account: row.account,
    objectId: row.objectId,
    status: row.status,
    attempts: row.attempts,
    receivedAt: row.receivedAt.toISOString(),
    processedAt: row.processedAt?.toISOString() ?? null,
    lastError: row.lastError,
  };
}
