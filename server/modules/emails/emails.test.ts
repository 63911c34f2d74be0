import { generateKeyPairSync, randomUUID, sign } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EmailDto } from "../../../shared/api/emails.ts";
import type { Page } from "../../../shared/api/pagination.ts";
import { emails } from "../../../shared/schema/index.ts";
import { loadConfig } from "../../config/env.ts";
import { buildContainer, type Container } from "../../container.ts";
import { enqueueJob } from "../../infra/queue.ts";
import { startJobRunner, type JobRunner } from "../../jobs/runner.ts";
import { captureLog, HttpClient, startTestServer, testEnv, type TestServer } from "../../test/harness.ts";
import { createCommunity, createEvent, signedInUser, TEST_PASSWORD, uniqueEmail } from "../../test/factories.ts";
import { startFakeSendgrid, type FakeSendgrid } from "../../test/fake-sendgrid.ts";
import { sendEmailJob } from "./emails.jobs.ts";
import { jobContext } from "../../jobs/context.ts";

/** SendGrid's Event Webhook key pair: SendGrid keeps the private key and shows the public one (base64 DER SPKI). */
const keys = generateKeyPairSync("ec", { namedCurve: "P-256" });
const PUBLIC_KEY = keys.publicKey.export({ type: "spki", format: "der" }).toString("base64");

/** Signed as SendGrid signs: ECDSA with SHA-256 over the timestamp followed by the raw body, base64 DER. */
function signedHeaders(body: string, privateKey = keys.privateKey): Record<string, string> {
  const timestamp = String(Math.floor(Date.now() / 1_000));
  return {
    "content-type": "application/json",
    "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
    "X-Twilio-Email-Event-Webhook-Signature": sign("sha256", Buffer.from(timestamp + body), privateKey).toString("base64"),
  };
}

async function emailsTo(server: TestServer, to: string): Promise<EmailDto[]> {
  const response = await fetch(`${server.url}/api/ops/emails?to=${encodeURIComponent(to)}`);
  expect(response.status).toBe(200);
  return ((await response.json()) as Page<EmailDto>).items;
}

/** Waits until the address has exactly one email in one of these statuses, and returns it. */
async function settled(server: TestServer, to: string, statuses: string[]): Promise<EmailDto> {
  await expect
    .poll(async () => (await emailsTo(server, to)).map((email) => email.status), { timeout: 15_000, interval: 50 })
    .toEqual([expect.toSatisfy((status: string) => statuses.includes(status))]);
  return (await emailsTo(server, to))[0] as EmailDto;
}

async function register(server: TestServer, name = "Newcomer"): Promise<{ email: string; response: Response; client: HttpClient }> {
  const client = new HttpClient(server.url);
  const email = uniqueEmail(name);
  const response = await client.post("/api/auth/register", { email, password: TEST_PASSWORD, name });
  return { email, response, client };
}

function postEvents(server: TestServer, body: string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${server.url}/api/webhooks/sendgrid`, { method: "POST", body, headers });
}

describe("the email outbox, sent through SendGrid by the background worker", () => {
  let sendgrid: FakeSendgrid;
  let server: TestServer;
  let worker: Container;
  let runner: JobRunner;
  const workerLog = captureLog("debug");

  beforeAll(async () => {
    sendgrid = await startFakeSendgrid();
    const env = {
      SENDGRID_API_KEY: "SG.test-key",
      SENDGRID_API_URL: sendgrid.url,
      SENDGRID_WEBHOOK_PUBLIC_KEY: PUBLIC_KEY,
      EMAIL_SEND_TIMEOUT_MS: "400",
      EMAIL_RETRY_BASE_MS: "10",
      EMAIL_MAX_ATTEMPTS: "3",
      EMAIL_SEND_RATE_PER_S: "1000",
    };
    server = await startTestServer(env);
    worker = await buildContainer(loadConfig(testEnv(env)), "worker", workerLog.logger);
    // The product's own runner, knowing the send job only: it picks up no job another test file enqueues.
    runner = await startJobRunner({
      pool: worker.pool,
      concurrency: 2,
      jobs: [sendEmailJob],
      context: jobContext(worker),
    });
  });
  afterAll(async () => {
    await runner?.runner.stop();
    await worker?.close();
    await server?.close();
    await sendgrid?.close();
  });

  it("retries a 429 (at its X-RateLimit-Reset) and a 500, then sends once: 3 attempts, each in the history, then delivered", async () => {
    sendgrid.script({ rateLimited: { resetInS: 1 } }, "server_error", "accept");
    const { email, response } = await register(server, "Ada Lovelace");
    expect(response.status).toBe(201);

    const sent = await settled(server, email, ["sent"]);
    expect(sent).toMatchObject({ template: "welcome", attempts: 3, lastError: "SendGrid answered 500: Internal server error" });
    expect(sent.history.map((entry) => [entry.outcome, entry.error])).toEqual([
      ["queued", "SendGrid answered 429: too many requests"],
      ["queued", "SendGrid answered 500: Internal server error"],
      ["sent", undefined],
    ]);
    const received = sendgrid.to(email);
    expect(received.map((mail) => mail.answer)).toEqual([{ rateLimited: { resetInS: 1 } }, "server_error", "accept"]);
    // The retry after the 429 waited for the reset SendGrid announced (a whole second, at most two).
    const [first, second] = sent.history.map((entry) => Date.parse(entry.at));
    expect((second as number) - (first as number)).toBeGreaterThanOrEqual(300);
    const accepted = received[2];
    expect(sent.providerMessageId).toBe(accepted?.messageId);
    expect(accepted?.authorization).toBe("Bearer SG.test-key");
    expect(accepted?.body).toMatchObject({ subject: "Welcome aboard", custom_args: { email_id: sent.id } });
    expect(accepted?.body.content.map((part) => part.type)).toEqual(["text/plain", "text/html"]);

    const delivered = JSON.stringify([
      { email, event: "delivered", sg_event_id: randomUUID(), sg_message_id: `${sent.providerMessageId}.filter0001`, email_id: sent.id },
    ]);
    expect((await postEvents(server, delivered, signedHeaders(delivered))).status).toBe(200);
    expect(await emailsTo(server, email)).toMatchObject([{ status: "delivered", attempts: 3 }]);
    expect(sendgrid.to(email).filter((mail) => mail.answer === "accept")).toHaveLength(1);
  });

  it("gives up after the last attempt when SendGrid keeps failing, and at once on a 400, with the error visible", async () => {
    sendgrid.script("server_error", "server_error", "server_error");
    const failing = await register(server, "Failing");
    const failed = await settled(server, failing.email, ["failed"]);
    expect(failed).toMatchObject({ attempts: 3, lastError: "SendGrid answered 500: Internal server error" });
    expect(sendgrid.to(failing.email)).toHaveLength(3);

    sendgrid.script("bad_request");
    const refused = await register(server, "Refused");
    const rejected = await settled(server, refused.email, ["failed"]);
    expect(rejected).toMatchObject({
      attempts: 1,
      lastError: "SendGrid answered 400: The from address does not match a verified Sender Identity.",
    });
    expect(sendgrid.to(refused.email)).toHaveLength(1);
  });

  it("gives up on a SendGrid that does not answer within the deadline, and tries again", async () => {
    sendgrid.script("hang");
    const { email } = await register(server, "Patient");
    const sent = await settled(server, email, ["sent"]);
    expect(sent).toMatchObject({ attempts: 2, lastError: "SendGrid did not answer within 400 ms" });
    expect(sendgrid.to(email).map((mail) => mail.answer)).toEqual(["hang", "accept"]);
  });

  it("never sends again an email a crash left `sending` (SendGrid may have it): it stays visible as such", async () => {
    const to = uniqueEmail("crashed");
    const [row] = await server.container.db
      .insert(emails)
      .values({ toAddress: to, template: "welcome", subject: "Welcome aboard", bodyText: "Hello", status: "sending", attempts: 1 })
      .returning();
    const jobKey = `crash-${randomUUID()}`;
    await enqueueJob(server.container.db, sendEmailJob, { emailId: row?.id as string }, { jobKey });
    await expect
      .poll(async () => (await server.container.db.execute(sql`select 1 from graphile_worker.jobs where key = ${jobKey}`)).rows.length, {
        timeout: 10_000,
        interval: 50,
      })
      .toBe(0);
    expect(await emailsTo(server, to)).toMatchObject([{ status: "sending", attempts: 1 }]);
    const stuck = (await (await fetch(`${server.url}/api/ops/emails?status=sending&limit=100`)).json()) as Page<EmailDto>;
    expect(stuck.items.map((email) => email.id)).toContain(row?.id);
    expect(new Set(stuck.items.map((email) => email.status))).toEqual(new Set(["sending"]));
    expect(sendgrid.to(to)).toEqual([]);
    expect(workerLog.lines).toContainEqual(
      expect.objectContaining({ msg: "no queued email with this id; nothing to send", emailId: row?.id }),
    );
  });

  it("queues one welcome email for a registration sent twice, at once or again", async () => {
    const client = new HttpClient(server.url);
    const email = uniqueEmail("twice");
    const body = { email, password: TEST_PASSWORD, name: "Twice" };
    const statuses = (await Promise.all([client.post("/api/auth/register", body), client.post("/api/auth/register", body)])).map(
      (response) => response.status,
    );
    expect(statuses.sort()).toEqual([201, 409]);
    expect((await client.post("/api/auth/register", body)).status).toBe(409);
    await settled(server, email, ["sent"]);
    expect(sendgrid.to(email)).toHaveLength(1);
  });

  it("answers a reset request alike for a known and an unknown address, and sends the link to the known one only", async () => {
    const { email } = await register(server, "Forgetful");
    await settled(server, email, ["sent"]);
    const unknown = uniqueEmail("nobody");
    const anonymous = new HttpClient(server.url);
    const answers = [
      await anonymous.post("/api/auth/password-reset", { email }),
      await anonymous.post("/api/auth/password-reset", { email: unknown }),
    ];
    expect(answers.map((response) => response.status)).toEqual([202, 202]);
    await expect
      .poll(() => sendgrid.to(email).map((mail) => mail.body.subject), { timeout: 10_000, interval: 50 })
      .toEqual(["Welcome aboard", "Reset your password"]);
    expect(await emailsTo(server, unknown)).toEqual([]);
    expect(sendgrid.to(unknown)).toEqual([]);
  });

  it("sends a ticket with its QR code as an inline image", async () => {
    const admin = await signedInUser(server, "Door Keeper");
    const community = await createCommunity(admin.client, { name: "QR club" });
    const event = await createEvent(admin, community, { title: "Spring <gala>" });
    const taken = await admin.client.post(`/api/events/${event.id}/tickets`);
    expect(taken.status).toBe(201);
    const { ticket } = (await taken.json()) as { ticket: { id: string } };

    await expect
      .poll(async () => (await emailsTo(server, admin.email)).map((email) => [email.template, email.status]))
      .toContainEqual(["ticket_issued", "sent"]);
    const mail = sendgrid.to(admin.email).find((received) => received.body.subject === "Your ticket: Spring <gala>");
    const html = mail?.body.content.find((part) => part.type === "text/html")?.value ?? "";
    expect(html).toContain('<img src="cid:ticket-qr"');
    expect(html).toContain("Spring &lt;gala&gt;");
    expect(html).toContain(`/tickets/${ticket.id}`);
    expect(mail?.body.attachments).toEqual([
      expect.objectContaining({ filename: "ticket-qr.png", type: "image/png", disposition: "inline", content_id: "ticket-qr" }),
    ]);
    expect(
      Buffer.from(mail?.body.attachments?.[0]?.content ?? "", "base64")
        .subarray(1, 4)
        .toString(),
    ).toBe("PNG");
  });

  describe("the SendGrid Event Webhook", () => {
    it("refuses a missing or wrong signature with 400 in the error shape, and a body changed after signing", async () => {
      const body = JSON.stringify([{ email: "a@example.test", event: "delivered", sg_event_id: randomUUID() }]);
      const missing = await postEvents(server, body, { "content-type": "application/json" });
      expect(missing.status).toBe(400);
      expect(await missing.json()).toMatchObject({ error: { code: "validation_failed", details: [{ message: "missing" }] } });

      const otherKey = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
      const forged = await postEvents(server, body, signedHeaders(body, otherKey));
      expect(forged.status).toBe(400);
      expect(await forged.json()).toMatchObject({ error: { code: "validation_failed", details: [{ message: "invalid" }] } });

      const altered = await postEvents(server, body.replace("delivered", "bounce"), signedHeaders(body));
      expect(altered.status).toBe(400);
      const garbage = await postEvents(server, body, { ...signedHeaders(body), "X-Twilio-Email-Event-Webhook-Signature": "bm90IGEgc2ln" });
      expect(garbage.status).toBe(400);
    });

    it("applies a batch delivered twice once, and suppresses an address that bounced: a later email to it is not sent", async () => {
      const { email, client } = await register(server, "Bouncing");
      const welcome = await settled(server, email, ["sent"]);
      const bounce = { email, event: "bounce", type: "bounce", reason: "550 5.1.1 mailbox does not exist", email_id: welcome.id };
      const batch = JSON.stringify([
        { ...bounce, sg_event_id: randomUUID() },
        { email, event: "processed", sg_event_id: randomUUID(), email_id: welcome.id },
      ]);
      for (let delivery = 0; delivery < 2; delivery += 1) {
        expect((await postEvents(server, batch, signedHeaders(batch))).status).toBe(200);
      }
      const [bounced] = await emailsTo(server, email);
      expect(bounced).toMatchObject({ status: "bounced" });
      expect(bounced?.history.filter((entry) => entry.outcome === "bounced")).toEqual([
        expect.objectContaining({ error: "550 5.1.1 mailbox does not exist" }),
      ]);

      expect((await client.post("/api/auth/password-reset", { email })).status).toBe(202);
      await expect
        .poll(async () => (await emailsTo(server, email)).map((row) => [row.template, row.status]), { timeout: 10_000, interval: 50 })
        .toEqual([
          ["password_reset", "suppressed"],
          ["welcome", "bounced"],
        ]);
      expect(sendgrid.to(email)).toHaveLength(1);
    });
  });
});

describe("emails without a SendGrid key", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ SENDGRID_API_KEY: undefined, SENDGRID_WEBHOOK_PUBLIC_KEY: undefined });
  });
  afterAll(() => server.close());

  it("captures each email, rendered, and lists it for operators, newest first", async () => {
    const { email, client } = await register(server, "Grace <Hopper>");
    expect((await client.post("/api/auth/password-reset", { email })).status).toBe(202);
    const listed = await emailsTo(server, email);
    expect(listed.map((row) => [row.template, row.status, row.attempts])).toEqual([
      ["password_reset", "captured", 0],
      ["welcome", "captured", 0],
    ]);
    const welcome = listed[1] as EmailDto;
    expect(welcome).toMatchObject({ to: email, subject: "Welcome aboard", lastError: null, sentAt: null });
    expect(welcome.text).toContain("Hello Grace <Hopper>,");
    expect(welcome.html).toContain("Hello Grace &lt;Hopper&gt;,");
    expect(listed[0]?.text).toMatch(/reset-password\?token=[\w-]{43}/);
  });

  it("answers the Event Webhook 503 unavailable without a public key, so that SendGrid tries again later", async () => {
    const response = await postEvents(server, "[]", signedHeaders("[]"));
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error: { code: "unavailable" } });
  });

  it("previews every template for operators, HTML as text/html; an unknown one is 404", async () => {
    const { templates } = (await (await fetch(`${server.url}/api/ops/emails/templates`)).json()) as { templates: string[] };
    expect(templates.sort()).toEqual(["dues_receipt", "dues_reminder", "password_reset", "payment_failed", "ticket_issued", "welcome"]);
    for (const name of templates) {
      const preview = await fetch(`${server.url}/api/ops/emails/templates/${name}/preview`);
      expect([name, preview.status, preview.headers.get("content-type")]).toEqual([name, 200, "text/html; charset=utf-8"]);
      expect(await preview.text()).toMatch(/^<!doctype html>/);
    }
    const receipt = await (await fetch(`${server.url}/api/ops/emails/templates/dues_receipt/preview`)).text();
    expect(receipt).toContain("€25.00");
    expect(receipt).toContain("31 December 2027");
    expect((await fetch(`${server.url}/api/ops/emails/templates/nope/preview`)).status).toBe(404);
  });
});
