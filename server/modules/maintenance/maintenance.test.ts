import { randomUUID } from "node:crypto";
import { eq, inArray, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkinScans, emailEvents, emails, passwordResets, sessions, throttleCounters } from "../../../shared/schema/index.ts";
import { captureLog, startTestServer, type TestServer } from "../../test/harness.ts";
import { communityWithCast, createEvent } from "../../test/factories.ts";
import { cleanupJob } from "./maintenance.jobs.ts";
import { jobContext } from "../../jobs/context.ts";

describe("the hourly cleanup", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it("deletes through each module's repository what no longer matters, and keeps what still does", async () => {
    const { db } = server.container;
    const { admin, staff, community } = await communityWithCast(server);
    const event = await createEvent(admin, community);
    const tag = randomUUID();
    const ago = (interval: string) => sql`now() - ${interval}::interval`;
    await db.insert(sessions).values([
      { sid: `old-${tag}`, sess: {}, expire: new Date(Date.now() - 60_000) },
      { sid: `live-${tag}`, sess: {}, expire: new Date(Date.now() + 60_000) },
    ]);
    await db.insert(throttleCounters).values([
      { key: `old-${tag}`, hits: 9, lastHitAt: ago("61 minutes") },
      { key: `blocked-${tag}`, hits: 9, lastHitAt: ago("61 minutes"), blockedUntil: sql`now() + interval '1 minute'` },
      { key: `recent-${tag}`, hits: 9, lastHitAt: ago("59 minutes") },
    ]);
    await db.insert(passwordResets).values([
      { userId: admin.id, tokenHash: `old-${tag}`, expiresAt: ago("25 hours") },
      { userId: admin.id, tokenHash: `recent-${tag}`, expiresAt: ago("23 hours") },
    ]);
    await db.insert(checkinScans).values([
      { eventId: event.id, scannedBy: staff.id, nonce: `old-${tag}`, codeHash: "h", createdAt: ago("8 days") },
      { eventId: event.id, scannedBy: staff.id, nonce: `recent-${tag}`, codeHash: "h", createdAt: ago("6 days") },
    ]);
    const to = `${tag}@example.test`;
    await db.insert(emails).values([
      { toAddress: to, template: "t", subject: "old", bodyText: "b", status: "captured", createdAt: ago("8 days") },
      { toAddress: to, template: "t", subject: "recent", bodyText: "b", status: "captured", createdAt: ago("6 days") },
      { toAddress: to, template: "t", subject: "old but sent", bodyText: "b", status: "sent", createdAt: ago("8 days") },
    ]);
    await db.insert(emailEvents).values([
      { id: `old-${tag}`, type: "delivered", receivedAt: ago("8 days") },
      { id: `recent-${tag}`, type: "delivered", receivedAt: ago("6 days") },
    ]);

    const log = captureLog();
    await cleanupJob.handle({}, jobContext(server.container, log.logger));

    const left = async <T>(rows: Promise<T[]>) => (await rows).map((row) => Object.values(row as object)[0]);
    expect(
      await left(
        db
          .select({ sid: sessions.sid })
          .from(sessions)
          .where(inArray(sessions.sid, [`old-${tag}`, `live-${tag}`])),
      ),
    ).toEqual([`live-${tag}`]);
    expect(
      (
        await left(
          db
            .select({ key: throttleCounters.key })
            .from(throttleCounters)
            .where(sql`${throttleCounters.key} like ${`%-${tag}`}`),
        )
      ).sort(),
    ).toEqual([`blocked-${tag}`, `recent-${tag}`]);
    expect(
      await left(db.select({ hash: passwordResets.tokenHash }).from(passwordResets).where(eq(passwordResets.userId, admin.id))),
    ).toEqual([`recent-${tag}`]);
    expect(await left(db.select({ nonce: checkinScans.nonce }).from(checkinScans).where(eq(checkinScans.eventId, event.id)))).toEqual([
      `recent-${tag}`,
    ]);
    expect((await left(db.select({ subject: emails.subject }).from(emails).where(eq(emails.toAddress, to)))).sort()).toEqual([
      "old but sent",
      "recent",
    ]);
    expect(
      await left(
        db
          .select({ id: emailEvents.id })
          .from(emailEvents)
          .where(inArray(emailEvents.id, [`old-${tag}`, `recent-${tag}`])),
      ),
    ).toEqual([`recent-${tag}`]);
    expect(log.lines).toContainEqual(
      expect.objectContaining({ msg: "cleanup done", capturedEmails: expect.any(Number), emailEventIds: expect.any(Number) }),
    );
  });
});
