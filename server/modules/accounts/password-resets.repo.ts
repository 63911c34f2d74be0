import { and, eq, gt, isNull, lt, ne, sql } from "drizzle-orm";
import { passwordResets, users } from "../../../shared/schema/index.ts";
import type { Executor } from "../../infra/db/client.ts";
import type { RecipientQuery } from "../emails/index.ts";

const usable = (tokenHash: string) =>
  and(eq(passwordResets.tokenHash, tokenHash), isNull(passwordResets.usedAt), gt(passwordResets.expiresAt, sql`now()`));

/** Password reset tokens, stored as hashes, and the email that carries each. */
export class PasswordResetsRepository {
  /**
   * For the account of this email, if there is one: stores the token's hash, and selects the address the email
   * carrying the link goes to (the outbox inserts the email and its job in the same statement, `EmailOutbox.queueFor`).
   * One statement, so every row commits together, and the same single round trip whether the account exists or not.
   * Its commit does not wait for the WAL flush (synchronous_commit off, for this transaction only, set whether the
   * account exists or not): without an account the statement writes nothing, or only the send job that will find no
   * email (with SendGrid configured), and that wait was most of the difference in time (medians 1 ms apart with it,
   * 0.3 ms without, locally; reset-timing.bench.ts). A crash in the instant after the commit may lose the request, as if
   * it had never been made: the user asks again.
   */
  createIfAccountExists(input: { email: string; tokenHash: string; ttlS: number }): RecipientQuery {
    const { email, tokenHash, ttlS } = input;
    return {
      prelude: sql`
        account as (
          select ${users.id} as id, ${users.email} as email from ${users} where ${users.email} = ${email}
        ), reset as (
          insert into ${passwordResets} (user_id, token_hash, expires_at)
          select id, ${tokenHash}, now() + make_interval(secs => ${ttlS}::int) from account
          returning user_id
        )`,
      recipient: sql`select account.email as to_address from account join reset on reset.user_id = account.id`,
      // Evaluated whether the account exists or not: the commit of either does not wait for the WAL flush.
      always: sql`set_config('synchronous_commit', 'off', true)`,
    };
  }

  /** Whether the token would be accepted now (a cheap look before hashing the new password). */
  async isUsable(db: Executor, tokenHash: string): Promise<boolean> {
    const [row] = await db.select({ id: passwordResets.id }).from(passwordResets).where(usable(tokenHash)).limit(1);
    return row !== undefined;
  }

  /** Marks the token used, by a conditional update: of two concurrent uses exactly one gets the reset back. */
  async take(db: Executor, tokenHash: string): Promise<{ id: string; userId: string } | undefined> {
    const [reset] = await db
      .update(passwordResets)
      .set({ usedAt: sql`now()` })
      .where(usable(tokenHash))
      .returning({ id: passwordResets.id, userId: passwordResets.userId });
    return reset;
  }

  /** Voids the account's pending resets (but the one being used, if given): a new password makes them pointless. */
  async voidPending(db: Executor, userId: string, exceptId?: string): Promise<void> {
    await db
      .update(passwordResets)
      .set({ usedAt: sql`now()` })
      .where(and(eq(passwordResets.userId, userId), isNull(passwordResets.usedAt), exceptId ? ne(passwordResets.id, exceptId) : undefined));
  }

  /** Resets that can no longer be used, this long after they expired. */
  async deleteExpired(db: Executor, graceS: number): Promise<number> {
    const deleted = await db
      .delete(passwordResets)
      .where(lt(passwordResets.expiresAt, sql`now() - make_interval(secs => ${graceS}::int)`))
      .returning({ id: passwordResets.id });
    return deleted.length;
  }
}
