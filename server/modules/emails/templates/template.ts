import { z } from "zod";
import type { OutgoingEmail } from "../../../infra/mailer.ts";
import { line } from "../../../../shared/api/text.ts";

/** What a template needs besides its payload. */
export interface RenderContext {
  /** The public URL of the app, without a trailing slash. */
  appUrl: string;
}

/** A file sent with the email; `contentId` makes it inline (`<img src="cid:…">`). */
export type EmailAttachment = OutgoingEmail["attachments"][number];

/** What is rendered, and stored, when the email is queued. */
export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

/**
 * An email template: its name, the schema of its payload (checked when the email is queued), a sample payload (for
 * operators' previews and tests), and one renderer per part. The texts are rendered when the email is queued, in the
 * caller's transaction, so they must be cheap; attachments (a QR code is milliseconds of CPU) are rendered by the
 * background worker when it sends the email, from the stored payload.
 */
export interface EmailTemplate<Name extends string = string, Schema extends z.ZodType = z.ZodType> {
  name: Name;
  payload: Schema;
  sample: z.input<Schema>;
  subject(payload: z.output<Schema>): string;
  text(payload: z.output<Schema>, context: RenderContext): string;
  html(payload: z.output<Schema>, context: RenderContext): string;
  attachments?(payload: z.output<Schema>): Promise<EmailAttachment[]>;
}

export function defineTemplate<Name extends string, Schema extends z.ZodType>(
  template: EmailTemplate<Name, Schema>,
): EmailTemplate<Name, Schema> {
  return template;
}

export function renderTemplate<Schema extends z.ZodType>(
  template: EmailTemplate<string, Schema>,
  payload: z.output<Schema>,
  context: RenderContext,
): RenderedEmail {
  return {
    subject: template.subject(payload),
    text: template.text(payload, context),
    html: template.html(payload, context),
  };
}

/** Fields payloads share. */
export const fields = {
  name: line(200),
  communityName: line(200),
  /** An absolute http(s) URL. */
  link: z.url({ protocol: /^https?$/ }).max(2_000),
  /** In the currency's minor unit (cents), as Stripe counts. */
  amountMinor: z.number().int().min(0),
  /** ISO 4217, as Stripe writes it (lower case accepted). */
  currency: z.string().regex(/^[A-Za-z]{3}$/, "a three-letter ISO 4217 code"),
  /** ISO 8601 date or date-time. */
  date: z.iso.datetime({ offset: true }).or(z.iso.date()),
};
