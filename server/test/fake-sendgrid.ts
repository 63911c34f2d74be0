import http from "node:http";
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";

/**
 * What the next request to `POST /v3/mail/send` gets:
 * - `accept`: 202 with an `X-Message-Id`, as SendGrid accepts an email;
 * - `rate_limited`: 429 with `X-RateLimit-Reset` (seconds since the epoch) `resetInS` from now;
 * - `server_error`: 500; `bad_request`: 400 with SendGrid's error body;
 * - `hang`: no answer at all, until the client gives up or the fake closes.
 */
export type FakeAnswer = "accept" | "server_error" | "bad_request" | "hang" | { rateLimited: { resetInS: number } };

/** A request as the fake received it, with what it answered. */
export interface ReceivedMail {
  /** SendGrid's v3 mail body: personalizations, from, subject, content, attachments, custom_args. */
  body: SendgridMailBody;
  authorization: string | undefined;
  answer: FakeAnswer;
  /** Set when answered 202. */
  messageId?: string;
}

export interface SendgridMailBody {
  personalizations: Array<{ to: Array<{ email: string }> }>;
  from: { email: string; name?: string };
  subject: string;
  content: Array<{ type: string; value: string }>;
  attachments?: Array<{ content: string; filename: string; type?: string; disposition?: string; content_id?: string }>;
  custom_args?: Record<string, string>;
}

export interface FakeSendgrid {
  url: string;
  received: ReceivedMail[];
  /** Answers for the next requests, in order; once used up, every request is accepted. */
  script(...answers: FakeAnswer[]): void;
  /** What was received for one address. */
  to(address: string): ReceivedMail[];
  close(): Promise<void>;
}

/**
 * A small stateful stand-in for SendGrid's `POST /v3/mail/send`, for @sendgrid/mail pointed at it by
 * `SENDGRID_API_URL`: it records every request and answers as scripted.
 */
export async function startFakeSendgrid(): Promise<FakeSendgrid> {
  const received: ReceivedMail[] = [];
  const script: FakeAnswer[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      if (req.method !== "POST" || req.url !== "/v3/mail/send") {
        res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ errors: [{ message: "not found" }] }));
        return;
      }
      const answer = script.shift() ?? "accept";
      const mail: ReceivedMail = {
        body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as SendgridMailBody,
        authorization: req.headers.authorization,
        answer,
      };
      received.push(mail);
      answerWith(answer, res, mail);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    script: (...answers) => script.push(...answers),
    to: (address) => received.filter((mail) => mail.body.personalizations.some((p) => p.to.some((to) => to.email === address))),
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function answerWith(answer: FakeAnswer, res: http.ServerResponse, mail: ReceivedMail): void {
  const json = (status: number, headers: Record<string, string>, body: unknown) =>
    res.writeHead(status, { "content-type": "application/json", ...headers }).end(body === undefined ? "" : JSON.stringify(body));
  if (answer === "hang") return;
  if (answer === "accept") {
    mail.messageId = randomUUID().replaceAll("-", "").slice(0, 22);
    res.writeHead(202, { "x-message-id": mail.messageId }).end();
  } else if (answer === "server_error") {
    json(500, {}, { errors: [{ message: "Internal server error" }] });
  } else if (answer === "bad_request") {
    json(400, {}, { errors: [{ message: "The from address does not match a verified Sender Identity.", field: "from" }] });
  } else {
    const reset = Math.ceil(Date.now() / 1_000) + answer.rateLimited.resetInS;
    json(
      429,
      { "x-ratelimit-limit": "600", "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(reset) },
      {
        errors: [{ message: "too many requests" }],
      },
    );
  }
}
