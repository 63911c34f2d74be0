import { and, count, desc, eq, getTableColumns, inArray, lt, or, sql, type SQL } from "drizzle-orm";
import { emailEvents, emails, emailSuppressions, type EmailStatus } from "../../../shared/schema/index.ts";
import type { Executor } from "../../infra/db/client.ts";
import { beforeCursor, timestampKeyOf, type TimestampIdCursor } from "../../infra/db/keyset.ts";

/** An email as queued: rendered once, in the transaction of what causes it. */
export interface NewEmail {
  id: string;
  template: string;
  payload: unknown;
  subject: string;
  bodyText: string;
  bodyHtml: string;
  dedupeKey: string;
  status: Extract<EmailStatus, "queued" | "captured">;
}

/** Where an attempt left the email. */
export interface Outcome {
  status: Extract<EmailStatus, "sent" | "queued" | "failed" | "captured">;
  error?: string;
  providerMessageId?: string;
}

const historyEntry = (outcome: string, error: string | undefined) =>
  sql`jsonb_build_array(jsonb_strip_nulls(jsonb_build_object('at', now(), 'outcome', ${outcome}::text, 'error', ${error ?? null}::text)))`;

const isSuppressed = sql`exists (select 1 from ${emailSuppressions} where ${emailSuppressions.address} = lower(${emails.toAddress}))`;

/** The outbox table, the suppression list and the Event Webhook's seen events. */
export class EmailsRepository {
  /**
   * Inserts the email for each address `recipient` selects (a query of one column, `to_address`; `prelude` may define
   * what it reads, data-modifying statements included), unless its dedupe key is taken, and makes `job`'s call (an
   * `add_job`) for each email inserted, or once in any case with `jobAlways`; `always` is evaluated once in any case.
   * All in one statement. Returns the id when it inserted.
   */
  async insertQueued(
    db: Executor,
    input: { email: NewEmail; recipient: SQL; prelude?: SQL; always?: SQL; job?: SQL; jobAlways?: boolean },
  ): Promise<string | undefined> {
    const { email, recipient, prelude, always, job } = input;
    const jobs = !job ? sql`null` : input.jobAlways ? job : sql`(select count(${job}) from inserted)`;
    const result = await db.execute<{ id: string | null }>(sql`
      with ${prelude ? sql`${prelude},` : sql``} recipient as (${recipient}),
      inserted as (
        insert into ${emails} (id, to_address, template, payload, subject, body_text, body_html, dedupe_key, status)
        select ${email.id}::uuid, recipient.to_address, ${email.template}, ${JSON.stringify(email.payload)}::jsonb, ${email.subject},
          ${email.bodyText}, ${email.bodyHtml}, ${email.dedupeKey}, ${email.status}
        from recipient
        on conflict (dedupe_key) do nothing
        returning id
      )
      select (select id from inserted limit 1) as id, ${jobs} as job, ${always ?? sql`null`} as always`);
    return result.rows[0]?.id ?? undefined;
  }

  /**
   * Takes a queued email for one attempt (`queued` → `sending`, attempts + 1), or marks it `suppressed` when its
   * address is on the suppression list. Anything but `queued` is left alone: an email is sent at most once.
   */
  async claim(db: Executor, id: string) {
    const [row] = await db
      .update(emails)
      .set({
        status: sql`case when ${isSuppressed} then 'suppressed' else 'sending' end`,
        attempts: sql`${emails.attempts} + case when ${isSuppressed} then 0 else 1 end`,
        history: sql`${emails.history} || case when ${isSuppressed} then ${historyEntry("suppressed", undefined)} else '[]'::jsonb end`,
        lastAttemptAt: sql`now()`,
        updatedAt: sql`now()`,
      })
      .where(and(eq(emails.id, id), eq(emails.status, "queued")))
      .returning();
    return row;
  }

  /** Records the outcome of the attempt in progress (the email is `sending`). */
  async recordOutcome(db: Executor, id: string, outcome: Outcome): Promise<void> {
    await db
      .update(emails)
      .set({
        status: outcome.status,
        lastError: outcome.error ?? sql`${emails.lastError}`,
        providerMessageId: outcome.providerMessageId ?? sql`${emails.providerMessageId}`,
        sentAt: outcome.status === "sent" ? sql`now()` : sql`${emails.sentAt}`,
        history: sql`${emails.history} || ${historyEntry(outcome.status, outcome.error)}`,
        updatedAt: sql`now()`,
      })
      .where(and(eq(emails.id, id), eq(emails.status, "sending")));
  }

  /** Newest first, along the (created_at, id) index, or the (to_address, created_at) one for one address. */
  async page(db: Executor, filter: { to?: string; status?: EmailStatus }, limit: number, before: TimestampIdCursor | undefined) {
    return db
      .select({ ...getTableColumns(emails), createdAtKey: timestampKeyOf(emails.createdAt) })
      .from(emails)
      .where(
        and(
          filter.to === undefined ? undefined : eq(emails.toAddress, filter.to),
          filter.status === undefined ? undefined : eq(emails.status, filter.status),
          before ? beforeCursor(emails.createdAt, emails.id, before) : undefined,
        ),
      )
      .orderBy(desc(emails.createdAt), desc(emails.id))
      .limit(limit + 1);
  }

  /** Remembers an Event Webhook event; false when it was seen already. */
  async recordEvent(db: Executor, event: { id: string; type: string; emailId: string | undefined }): Promise<boolean> {
    const inserted = await db
      .insert(emailEvents)
      .values({ id: event.id, type: event.type, emailId: event.emailId })
      .onConflictDoNothing()
      .returning({ id: emailEvents.id });
    return inserted.length > 0;
  }

  /**
   * Moves the email an event is about (by our id, or SendGrid's message id) to what the event reports, from the
   * statuses it may follow. Returns the email's address, when one moved.
   */
  async applyEvent(
    db: Executor,
    target: { emailId?: string; providerMessageId?: string },
    change: { status: EmailStatus; from: readonly EmailStatus[]; detail?: string },
  ): Promise<string | undefined> {
    const matches = [
      target.emailId ? eq(emails.id, target.emailId) : undefined,
      target.providerMessageId ? eq(emails.providerMessageId, target.providerMessageId) : undefined,
    ].filter((condition) => condition !== undefined);
    if (matches.length === 0) return undefined;
    const [row] = await db
      .update(emails)
      .set({
        status: change.status,
        history: sql`${emails.history} || ${historyEntry(change.status, change.detail)}`,
        updatedAt: sql`now()`,
      })
      .where(and(or(...matches), inArray(emails.status, [...change.from])))
      .returning({ to: emails.toAddress });
    return row?.to;
  }

  async suppress(db: Executor, address: string, reason: string): Promise<void> {
    await db.insert(emailSuppressions).values({ address: address.toLowerCase(), reason }).onConflictDoNothing();
  }

  /** Event Webhook event ids older than this: SendGrid stops redelivering a batch within a day. */
  async deleteEventsOlderThan(db: Executor, ageS: number): Promise<number> {
    const deleted = await db
      .delete(emailEvents)
      .where(lt(emailEvents.receivedAt, sql`now() - make_interval(secs => ${ageS}::int)`))
      .returning({ id: emailEvents.id });
    return deleted.length;
  }

  /** Captured emails older than this: the links they carry have long expired, and nobody is to read them any more. */
  async deleteCapturedOlderThan(db: Executor, ageS: number): Promise<number> {
    const deleted = await db
      .delete(emails)
      .where(and(eq(emails.status, "captured"), lt(emails.createdAt, sql`now() - make_interval(secs => ${ageS}::int)`)))
      .returning({ id: emails.id });
    return deleted.length;
  }

  async countByStatus(db: Executor): Promise<Partial<Record<EmailStatus, number>>> {
    const rows = await db.select({ status: emails.status, count: count() }).from(emails).groupBy(emails.status);
    return Object.fromEntries(rows.map((row) => [row.status, row.count]));
  }
}

export type EmailListRow = Awaited<ReturnType<EmailsRepository["page"]>>[number];
