import type { Router } from "express";
import type { Container } from "../../container.ts";
import { eventSignatureChecker } from "../../infra/mailer.ts";
import { EmailsRepository } from "./emails.repo.ts";
import { EmailsService } from "./emails.service.ts";
import { emailsOpsRoutes, sendgridWebhookRoutes } from "./emails.routes.ts";

export { EmailOutbox, emailOutbox, type EmailRequest, type RecipientQuery } from "./outbox.ts";
export { sendEmailJob } from "./emails.jobs.ts";
export type { TemplateName, TemplatePayload } from "./templates/index.ts";

export interface EmailsModule {
  /** /emails… under the operators' router. */
  opsRoutes: Router;
  /** The SendGrid Event Webhook, mounted at /api/webhooks/sendgrid before sessions. */
  webhookRoutes: Router;
}

export function emailsModule(container: Container): EmailsModule {
  const { config, db } = container;
  const publicKey = config.email.webhookPublicKey;
  const service = new EmailsService(db, new EmailsRepository(), {
    appUrl: config.appUrl,
    checkSignature: publicKey ? eventSignatureChecker(publicKey) : undefined,
  });
  return { opsRoutes: emailsOpsRoutes(service), webhookRoutes: sendgridWebhookRoutes(service) };
}
