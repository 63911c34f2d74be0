import { z } from "zod";
import { email } from "./auth.ts";
import { pageQuery } from "./pagination.ts";
import { requiredLine } from "./text.ts";

/** `GET /api/ops/emails?to=`: one address's emails, or all, newest first. */
export const emailsQuery = pageQuery.extend({ to: email.optional() });
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
