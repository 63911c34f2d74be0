import { z } from "zod";
import { pageQuery } from "./pagination.ts";
import { requiredLine } from "./text.ts";

export const STRIPE_EVENT_STATUSES = ["pending", "processing", "processed", "ignored", "failed"] as const;
export type StripeEventStatusName = (typeof STRIPE_EVENT_STATUSES)[number];

/** `GET /api/ops/webhooks`: newest first, optionally of one status. */
export const webhookEventsQuery = pageQuery.extend({ status: z.enum(STRIPE_EVENT_STATUSES).optional() });

/** A Stripe event id (`evt_…`). */
export const webhookEventParams = z.object({ id: requiredLine(255) });

export interface WebhookEvent {
  id: string;
  type: string;
  /** The connected account of a Connect event, null for the platform's own. */
  account: string | null;
  objectId: string | null;
  status: StripeEventStatusName;
  attempts: number;
  receivedAt: string;
  processedAt: string | null;
  lastError: string | null;
}

export interface WebhookStats {
  counts: Record<StripeEventStatusName, number>;
}
