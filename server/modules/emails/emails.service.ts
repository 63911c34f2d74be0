import { z } from "zod";
import type { EmailsQuery } from "../../../shared/api/emails.ts";
import type { Page } from "../../../shared/api/pagination.ts";
import type { EmailStatus } from "../../../shared/schema/index.ts";
import { AppError } from "../../core/app-error.ts";
import { decodeCursor, toPage } from "../../core/pagination.ts";
import type { Database, Executor } from "../../infra/db/client.ts";
import { timestampIdCursor } from "../../infra/db/keyset.ts";
import type { EmailListRow, EmailsRepository } from "./emails.repo.ts";
import {
  emailTemplates,
  isTemplateName,
  renderTemplate,
  TEMPLATE_NAMES,
  type EmailTemplate,
  type RenderedEmail,
} from "./templates/index.ts";

const EMAILS_CURSOR = timestampIdCursor("emails");

/** Checks SendGrid's signature over the raw body; undefined when no public key is configured. */
export type EventSignatureCheck = (payload: Buffer, signature: string, timestamp: string) => boolean;

export interface SignedEvents {
  body: Buffer;
  signature: string | undefined;
  timestamp: string | undefined;
}

/** The fields of an Event Webhook event that matter here; SendGrid sends more. */
const sendgridEvent = z.looseObject({
  sg_event_id: z.string().min(1).max(200),
  event: z.string().min(1).max(50),
  email: z.string().max(320).optional(),
  sg_message_id: z.string().max(500).optional(),
  /** Our custom argument: the email's id. */
  email_id: z.string().optional(),
  type: z.string().optional(),
  reason: z.string().optional(),
});
type SendgridEvent = z.infer<typeof sendgridEvent>;
const eventBatch = z.array(sendgridEvent).max(10_000);

/** What each event does to the email it is about, from which statuses. */
const EVENT_STATUS: Partial<Record<string, { status: EmailStatus; from: readonly EmailStatus[] }>> = {
  delivered: { status: "delivered", from: ["sent"] },
  bounce: { status: "bounced", from: ["sent", "delivered"] },
  dropped: { status: "dropped", from: ["sent"] },
};

/** A bounce (not a temporary block) or a spam complaint: nothing more is sent to the address. */
const suppresses = (event: SendgridEvent) => (event.event === "bounce" && event.type !== "blocked") || event.event === "spamreport";

/** What operators see of the outbox, and what SendGrid reports about the emails it got. */
export class EmailsService {
  private readonly appUrl: string;

  constructor(
    private readonly db: Database,
    private readonly repo: EmailsRepository,
    private readonly settings: { appUrl: string; checkSignature: EventSignatureCheck | undefined },
  ) {
    this.appUrl = settings.appUrl.replace(/\/+$/, "");
  }

  async list(query: EmailsQuery): Promise<Page<EmailListRow>> {
    const rows = await this.repo.page(
      this.db,
      { to: query.to, status: query.status },
      query.limit,
      decodeCursor(EMAILS_CURSOR, query.cursor),
    );
    return toPage(rows, query.limit, EMAILS_CURSOR, (row) => [row.createdAtKey, row.id] as const);
  }

  templateNames(): string[] {
    return TEMPLATE_NAMES;
  }

  /** The template rendered with its sample payload. */
  preview(name: string): RenderedEmail {
    if (!isTemplateName(name)) throw AppError.notFound("template");
    const template: EmailTemplate = emailTemplates[name];
    return renderTemplate(template, template.payload.parse(template.sample), { appUrl: this.appUrl });
  }

  /**
   * A batch of the Event Webhook, once its signature holds: each event is applied once (by `sg_event_id`), all in one
   * transaction, so a batch SendGrid delivers again is a no-op. Returns how many events were new.
   */
  async receiveEvents(signed: SignedEvents): Promise<number> {
    const events = this.verified(signed);
    return this.db.transaction(async (tx) => {
      let fresh = 0;
      for (const event of events) if (await this.apply(tx, event)) fresh += 1;
      return fresh;
    });
  }

  private verified({ body, signature, timestamp }: SignedEvents): SendgridEvent[] {
    const check = this.settings.checkSignature;
    if (!check) throw new AppError("unavailable", "the SendGrid Event Webhook is not configured", { retryAfterS: 60 });
    if (!signature || !timestamp) throw badSignature("missing");
    if (!check(body, signature, timestamp)) throw badSignature("invalid");
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString("utf8"));
    } catch {
      throw new AppError("validation_failed", "body: not JSON", { details: [{ path: "body", message: "not JSON" }] });
    }
    const batch = eventBatch.safeParse(parsed);
    if (!batch.success) {
      throw new AppError("validation_failed", "body: not a batch of SendGrid events", {
        details: batch.error.issues.slice(0, 10).map((issue) => ({ path: issue.path.join(".") || "body", message: issue.message })),
      });
    }
    return batch.data;
  }

  private async apply(tx: Executor, event: SendgridEvent): Promise<boolean> {
    const emailId = z.uuid().safeParse(event.email_id).data;
    if (!(await this.repo.recordEvent(tx, { id: event.sg_event_id, type: event.event, emailId }))) return false;
    const change = EVENT_STATUS[event.event];
    const target = { emailId, providerMessageId: event.sg_message_id?.split(".")[0] };
    const address = change ? await this.repo.applyEvent(tx, target, { ...change, detail: event.reason?.slice(0, 500) }) : undefined;
    const suppressed = event.email ?? address;
    if (suppresses(event) && suppressed) await this.repo.suppress(tx, suppressed, event.event);
    return true;
  }
}

function badSignature(why: "missing" | "invalid"): AppError {
  const path = "X-Twilio-Email-Event-Webhook-Signature";
  return new AppError("validation_failed", `${path}: ${why}`, { details: [{ path, message: why }] });
}
