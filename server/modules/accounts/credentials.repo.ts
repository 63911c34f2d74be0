import { and, eq, gt, isNull, lt, ne, sql } from "drizzle-orm";
import { emails, passwordResets, users } from "../../../shared/schema/index.ts";
import type { Database, Transaction } from "../../infra/db/client.ts";

export interface ResetEmail {
  template: string;
  subject: string;
  bodyText: string;
}

/** Passwords and their reset tokens: the writes that end sessions. */
export class CredentialsRepository {
  constructor(private readonly db: Database) {}

  /**
   * For the account of this email, if there is one: stores the token's hash and
   * captures the email carrying the link. One statement, so both rows commit
   * together, and the same single round trip whether the account exists or not.
   * Its commit does not wait for the WAL flush (synchronous_commit off, for this
   * transaction only): a statement that wrote nothing does not wait for one
   * either, and that wait was most of the difference in time (medians 1 ms
   * apart with it, 0.3 ms without, locally; reset-timing.bench.ts). A crash in the instant
   * after the commit may lose the request, as if it had never been made: the
   * user asks again.
   */
  async createIfAccountExists(input: { email: string; tokenHash: string; ttlS: number; message: ResetEmail }): Promise<void> {
    const { email, tokenHash, ttlS, message } = input;
    await this.db.execute(sql`
      with settings as (
        select set_config('synchronous_commit', 'off', true)
      ), account as (
        select ${users.id} as id, ${users.email} as email from ${users} where ${users.email} = ${email}
      ), reset as (
        insert into ${passwordResets} (user_id, token_hash, expires_at)
        select id, ${tokenHash}, now() + make_interval(secs => ${ttlS}::int) from account
        returning user_id
      )
      insert into ${emails} (to_address, template, subject, body_text, status)
      select account.email, ${message.template}, ${message.subject}, ${message.bodyText}, 'captured'
      from account join reset on reset.user_id = account.id cross join settings`);
  }

  /** Whether the token would be accepted now (a cheap look before hashing the new password). */
  async isUsable(tokenHash: string): Promise<boolean> {
    const [row] = await this.db
      .select({ id: passwordResets.id })
      .from(passwordResets)
      .where(and(eq(passwordResets.tokenHash, tokenHash), isNull(passwordResets.usedAt), gt(passwordResets.expiresAt, sql`now()`)))
      .limit(1);
    return row !== undefined;
  }

  /**
   * Marks the token used and sets the new password in one transaction, ending
   * every session of the account (session version + 1) and every other pending
   * reset of it. The token is taken by a conditional update, so of two
   * concurrent uses exactly one wins. Returns the account's email, or undefined
   * when the token is unknown, used or expired.
   */
  async consume(tokenHash: string, passwordHash: string): Promise<{ email: string } | undefined> {
    return this.db.transaction(async (tx) => {
      const [reset] = await tx
        .update(passwordResets)
        .set({ usedAt: sql`now()` })
        .where(and(eq(passwordResets.tokenHash, tokenHash), isNull(passwordResets.usedAt), gt(passwordResets.expiresAt, sql`now()`)))
        .returning({ id: passwordResets.id, userId: passwordResets.userId });
      if (!reset) return undefined;
      const user = await setPassword(tx, reset.userId, passwordHash);
      await tx
        .update(passwordResets)
        .set({ usedAt: sql`now()` })
        .where(and(eq(passwordResets.userId, reset.userId), isNull(passwordResets.usedAt), ne(passwordResets.id, reset.id)));
      return user ? { email: user.email } : undefined;
    });
  }

  /**
   * Sets a new password (the caller checked the current one), ending every
   * session of the account and any pending reset of it. Returns the new session
   * version, or undefined if the account is gone.
   */
  async changePassword(userId: string, passwordHash: string): Promise<number | undefined> {
    return this.db.transaction(async (tx) => {
      const user = await setPassword(tx, userId, passwordHash);
      await tx
        .update(passwordResets)
        .set({ usedAt: sql`now()` })
        .where(and(eq(passwordResets.userId, userId), isNull(passwordResets.usedAt)));
      return user?.sessionVersion;
    });
  }

  /** Resets that can no longer be used, a day after they expired. */
  async deleteExpired(): Promise<number> {
    const deleted = await this.db
      .delete(passwordResets)
      .where(lt(passwordResets.expiresAt, sql`now() - interval '1 day'`))
      .returning({ id: passwordResets.id });
    return deleted.length;
  }
}

async function setPassword(tx: Transaction, userId: string, passwordHash: string) {
  const [user] = await tx
    .update(users)
    .set({ passwordHash, sessionVersion: sql`${users.sessionVersion} + 1`, updatedAt: sql`now()` })
    .where(eq(users.id, userId))
    .returning({ email: users.email, sessionVersion: users.sessionVersion });
  return user;
}
