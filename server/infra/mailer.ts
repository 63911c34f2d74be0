import { MailService } from "@sendgrid/mail";
import { EventWebhook } from "@sendgrid/eventwebhook";

export interface MailerSettings {
  apiKey: string;
  /** Another API server (a test double); unset: SendGrid's own. */
  apiUrl?: string;
  from: string;
  timeoutMs: number;
  /** Emails handed to SendGrid per second, at most, by this process. */
  ratePerS: number;
}

export interface OutgoingEmail {
  to: string;
  subject: string;
  text: string;
  html: string;
  attachments: Array<{ filename: string; type: string; content: string; contentId?: string }>;
  /** Sent back by SendGrid with every event about the email (Event Webhook). */
  customArgs: Record<string, string>;
}

/**
 * A failed attempt: `retry` when trying again later may succeed (429, 5xx, a timeout, the network), with the time to
 * wait for when SendGrid says so; otherwise the email is refused for good (any other 4xx).
 */
export class MailerError extends Error {
  override name = "MailerError";
  constructor(
    message: string,
    readonly retry: boolean,
    readonly retryAt?: Date,
  ) {
    super(message);
  }
}

export interface Mailer {
  /** Hands the email to SendGrid; returns SendGrid's message id. Throws MailerError. */
  send(email: OutgoingEmail): Promise<{ messageId: string | undefined }>;
}

/**
 * The SendGrid client (@sendgrid/mail), with a deadline on each call and a cap on the rate of this process. Built only
 * by server/container.ts.
 */
export function createMailer(settings: MailerSettings): Mailer {
  const service = new MailService();
  service.setApiKey(settings.apiKey);
  // setApiKey sets the base URL of the region: the test double's replaces it afterwards.
  if (settings.apiUrl) (service as unknown as WithClient).client.setDefaultRequest("baseUrl", settings.apiUrl);
  service.setTimeout(settings.timeoutMs);
  const slot = rateLimiter(settings.ratePerS);
  return {
    async send(email) {
      await slot();
      try {
        const [response] = await service.send({
          to: email.to,
          from: settings.from,
          subject: email.subject,
          text: email.text,
          html: email.html,
          attachments: email.attachments.map(toSendgridAttachment),
          customArgs: email.customArgs,
        });
        const messageId: unknown = response.headers["x-message-id"];
        return { messageId: typeof messageId === "string" ? messageId : undefined };
      } catch (error) {
        throw classify(error, settings.timeoutMs);
      }
    },
  };
}

/**
 * An inline attachment needs SendGrid's `content_id`: the SDK sends attachments as given, without turning its typings'
 * `contentId` into the API's name (which SendGrid would ignore, leaving `cid:` images broken).
 */
function toSendgridAttachment({ contentId, ...file }: OutgoingEmail["attachments"][number]): { content: string; filename: string } {
  const sent = contentId ? { ...file, disposition: "inline", content_id: contentId } : { ...file, disposition: "attachment" };
  return sent;
}

/** @sendgrid/mail's typings leave out the client a MailService holds, which keeps the default request. */
interface WithClient {
  client: { setDefaultRequest(key: "baseUrl", value: string): void };
}

/** An answer of SendGrid's other than 2xx, as the SDK throws it (its ResponseError class is not exported). */
interface ResponseErrorShape {
  code: number;
  response: { headers?: unknown; body?: unknown };
}

function isResponseError(error: unknown): error is ResponseErrorShape {
  const candidate = error as Partial<ResponseErrorShape> | undefined;
  return typeof candidate?.code === "number" && typeof candidate.response === "object" && candidate.response !== null;
}

function classify(error: unknown, timeoutMs: number): MailerError {
  if (isResponseError(error)) {
    const status = error.code;
    const reason = `SendGrid answered ${status}${describeBody(error.response.body)}`;
    if (status === 429) return new MailerError(reason, true, rateLimitReset(error.response.headers));
    return new MailerError(reason, status >= 500 || status === 408);
  }
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code === "ECONNABORTED" || code === "ETIMEDOUT") return new MailerError(`SendGrid did not answer within ${timeoutMs} ms`, true);
  return new MailerError(`SendGrid not reached: ${error instanceof Error ? error.message : String(error)}`, true);
}

/** SendGrid's error body: `{ errors: [{ message, field }] }`; its first message, short. */
function describeBody(body: unknown): string {
  const first = (body as { errors?: Array<{ message?: unknown }> } | undefined)?.errors?.[0]?.message;
  return typeof first === "string" ? `: ${first.slice(0, 200)}` : "";
}

/** `X-RateLimit-Reset`: when the limit resets, in seconds since the epoch. */
function rateLimitReset(headers: unknown): Date | undefined {
  const value = Number((headers as Record<string, unknown> | undefined)?.["x-ratelimit-reset"]);
  return Number.isFinite(value) && value > 0 ? new Date(value * 1_000) : undefined;
}

/** Spaces calls 1/rate s apart: each caller waits for the next free slot. */
function rateLimiter(ratePerS: number): () => Promise<void> {
  const intervalMs = 1_000 / ratePerS;
  let nextFree = 0;
  return async () => {
    const now = Date.now();
    const at = Math.max(now, nextFree);
    nextFree = at + intervalMs;
    if (at > now) await new Promise((resolve) => setTimeout(resolve, at - now));
  };
}

export const EVENT_SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature";
export const EVENT_TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp";

/**
 * Checks the ECDSA signature SendGrid puts on an Event Webhook request (over the timestamp and the raw body), with
 * the public key shown in its Mail Settings (base64 DER). A malformed signature is an invalid one.
 */
export function eventSignatureChecker(publicKey: string): (payload: Buffer, signature: string, timestamp: string) => boolean {
  const webhook = new EventWebhook();
  const key = webhook.convertPublicKeyToECDSA(publicKey);
  return (payload, signature, timestamp) => {
    try {
      return webhook.verifySignature(key, payload, signature, timestamp);
    } catch {
      return false;
    }
  };
}
