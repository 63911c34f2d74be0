import type { EmailDto } from "../../../shared/api/emails.ts";
import type { EmailRow } from "../../../shared/schema/index.ts";

/** An email as operators see it: the address in full (never logged), its rendered body, and each attempt. */
export function presentEmail(row: EmailRow): EmailDto {
  return {
    id: row.id,
    to: row.toAddress,
    template: row.template,
    status: row.status,
    attempts: row.attempts,
    lastError: row.lastError,
    providerMessageId: row.providerMessageId,
    subject: row.subject,
    text: row.bodyText,
    html: row.bodyHtml,
    history: row.history,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    lastAttemptAt: row.lastAttemptAt?.toISOString() ?? null,
    sentAt: row.sentAt?.toISOString() ?? null,
  };
}
