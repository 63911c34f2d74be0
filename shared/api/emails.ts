import { z } from "zod";
import { email } from "./auth.ts";
import { pageQuery } from "./pagination.ts";
import { requiredLine } from "./text.ts";

/** Where an email stands; the meaning of each in docs/operations.md (Emails). */
export const EMAIL_STATUS_VALUES = [
  "queued",
  "sending",
  "sent",
  "failed",
  "captured",
  "suppressed",
  "delivered",
  "bounced",
  "dropped",
] as const;

/** `GET /api/ops/emails?to=&status=`: one address's emails, or all, in one status or any, newest first. */
export const emailsQuery = pageQuery.extend({ to: email.optional(), status: z.enum(EMAIL_STATUS_VALUES).optional() });
export type EmailsQuery = z.infer<typeof emailsQuery>;

export const templateParams = z.object({ name: requiredLine(100) });

export interface EmailHistoryDto {
  at: string;
  outcome: string;
  error?: string;
}

/** An email of the outbox as operators see it. */
export interface EmailDto {
  id: string;
  to: string;
  template: string;
  status: string;
  attempts: number;
  lastError: string | null;
  providerMessageId: string | null;
  subject: string;
  text: string;
  html: string | null;
  history: EmailHistoryDto[];
  createdAt: string;
  updatedAt: string;
  lastAttemptAt: string | null;
  sentAt: string | null;
}
