import type { z } from "zod";
import type { EmailAttachment, EmailTemplate } from "./template.ts";
import { passwordResetTemplate, welcomeTemplate } from "./accounts.ts";
import { duesReceiptTemplate, duesReminderTemplate, paymentFailedTemplate } from "./payments.ts";
import { ticketIssuedTemplate } from "./tickets.ts";

/** Every email the product sends, by name. */
export const emailTemplates = {
  welcome: welcomeTemplate,
  password_reset: passwordResetTemplate,
  ticket_issued: ticketIssuedTemplate,
  dues_receipt: duesReceiptTemplate,
  dues_reminder: duesReminderTemplate,
  payment_failed: paymentFailedTemplate,
} as const;

export type EmailTemplates = typeof emailTemplates;
export type TemplateName = keyof EmailTemplates;
/** The payload a template takes, as its caller writes it. */
export type TemplatePayload<Name extends TemplateName> = z.input<EmailTemplates[Name]["payload"]>;

export const TEMPLATE_NAMES = Object.keys(emailTemplates) as TemplateName[];

export function isTemplateName(name: string): name is TemplateName {
  return Object.hasOwn(emailTemplates, name);
}

export { renderTemplate, type EmailAttachment, type EmailTemplate, type RenderContext, type RenderedEmail } from "./template.ts";

/** The attachments of a stored email, rendered from its payload (none for a template that has none, or no longer exists). */
export async function renderAttachments(name: string, payload: unknown): Promise<EmailAttachment[]> {
  if (!isTemplateName(name)) return [];
  const template: EmailTemplate = emailTemplates[name];
  return (await template.attachments?.(template.payload.parse(payload))) ?? [];
}
