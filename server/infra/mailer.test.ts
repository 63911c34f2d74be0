import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeSendgrid, type FakeSendgrid } from "../test/fake-sendgrid.ts";
import { createMailer } from "./mailer.ts";

describe("the SendGrid client", () => {
  let sendgrid: FakeSendgrid;
  beforeAll(async () => {
    sendgrid = await startFakeSendgrid();
  });
  afterAll(() => sendgrid.close());

  it("hands at most EMAIL_SEND_RATE_PER_S emails a second to SendGrid, however many are sent at once", async () => {
    const mailer = createMailer({ apiKey: "SG.rate", apiUrl: sendgrid.url, from: "from@example.test", timeoutMs: 5_000, ratePerS: 5 });
    const arrivals: number[] = [];
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 6 }, (_, index) =>
        mailer
          .send({ to: `rate-${index}@example.test`, subject: "s", text: "t", html: "<p>h</p>", attachments: [], customArgs: {} })
          .then(() => arrivals.push(performance.now() - started)),
      ),
    );
    // Six emails at five a second: the sixth leaves a second after the first, at the earliest.
    expect(Math.max(...arrivals)).toBeGreaterThanOrEqual(1_000);
    expect(sendgrid.received.filter((mail) => mail.authorization === "Bearer SG.rate")).toHaveLength(6);
  });
});
