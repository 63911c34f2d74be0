import { randomUUID } from "node:crypto";
import { sql, type SQL } from "drizzle-orm";
import type { AppEnv } from "../../config/env.ts";
import type { Executor } from "../../infra/db/client.ts";
import { addJobCall } from "../../infra/queue.ts";
import { EmailsRepository } from "./emails.repo.ts";
import { sendEmailJob } from "./emails.jobs.ts";
import { emailTemplates, renderTemplate, type EmailTemplate, type TemplateName, type TemplatePayload } from "./templates/index.ts";

/** An email to queue: the payload's type follows the template. */
export interface EmailRequest<Name extends TemplateName> {
  to: string;
  template: Name;
  payload: TemplatePayload<Name>;
  /**
   * What makes two requests the same email (a retried request queues it once), e.g. the id of the row that causes it.
   * Scoped to the template.
   */
  dedupeKey: string;
}

/**
 * A recipient found by the statement itself: `recipient` selects one column, `to_address` (zero rows: no email), and
 * may read what `prelude` (a list of `name as (…)` items of a WITH, data-modifying ones included) defines; `always` is
 * an expression the statement evaluates once whatever `recipient` finds (a setting of the transaction).
 */
export interface RecipientQuery {
  prelude?: SQL;
  always?: SQL;
  recipient: SQL;
}

export interface OutboxSettings {
  appUrl: string;
  /** No SendGrid key: emails are stored as `captured` and no send job is enqueued. */
  capture: boolean;
}

/**
 * The one way to send an email: in the caller's transaction, validates the payload, renders the template, inserts the
 * email (once per dedupe key) and enqueues its sending, in a single statement: the email and its job exist if and only
 * if the caller's write commits.
 */
export class EmailOutbox {
  private readonly appUrl: string;

  constructor(
    private readonly settings: OutboxSettings,
    private readonly emails = new EmailsRepository(),
  ) {
    this.appUrl = settings.appUrl.replace(/\/+$/, "");
  }

  /** A page of the web app, for the links emails carry: `linkTo("/communities/club/dues")`. */
  linkTo(path: string): string {
    return `${this.appUrl}${path}`;
  }

  /** Queues the email; returns its id, or undefined when an email with this dedupe key exists already. */
  queue<Name extends TemplateName>(tx: Executor, request: EmailRequest<Name>): Promise<string | undefined> {
    return this.insert(tx, request, { recipient: sql`select ${request.to}::text as to_address` }, false);
  }

  /**
   * Queues the email to whoever `query` finds, if anyone, in one statement with the caller's own writes, and the same
   * work whether it finds someone or not: rendering, and the send job, which finds nothing to send when nobody was
   * found (adding a job costs about a millisecond, which would otherwise tell the two apart).
   */
  async queueFor<Name extends TemplateName>(
    tx: Executor,
    request: Omit<EmailRequest<Name>, "to">,
    query: RecipientQuery,
  ): Promise<string | undefined> {
    return this.insert(tx, request, query, true);
  }

  private async insert<Name extends TemplateName>(
    tx: Executor,
    request: Omit<EmailRequest<Name>, "to">,
    query: RecipientQuery,
    jobAlways: boolean,
  ): Promise<string | undefined> {
    const template: EmailTemplate = emailTemplates[request.template];
    const payload: unknown = template.payload.parse(request.payload);
    const rendered = renderTemplate(template, payload, { appUrl: this.appUrl });
    const id = randomUUID();
    return this.emails.insertQueued(tx, {
      email: {
        id,
        template: request.template,
        payload,
        subject: rendered.subject,
        bodyText: rendered.text,
        bodyHtml: rendered.html,
        dedupeKey: `${request.template}:${request.dedupeKey}`,
        status: this.settings.capture ? "captured" : "queued",
      },
      prelude: query.prelude,
      always: query.always,
      recipient: query.recipient,
      job: this.settings.capture ? undefined : addJobCall(sendEmailJob, { emailId: id }),
      jobAlways,
    });
  }
}

/**
 * The outbox every module queues its emails through, in its own transaction: `outbox.queue(tx, { to, template,
 * payload, dedupeKey })`. Emails are captured (stored, never sent) when no SendGrid key is configured. Jobs import it
 * from this file, not from the module's index, so that the background worker loads no routes.
 */
export function emailOutbox({ config }: { config: Pick<AppEnv, "appUrl" | "email"> }): EmailOutbox {
  return new EmailOutbox({ appUrl: config.appUrl, capture: !config.email.sendgridApiKey });
}
