import { and, eq, getTableName, sql } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import { communities, memberships, plans, users, type UserRow } from "../../../shared/schema/index.ts";
import type { Executor } from "../../infra/db/client.ts";

export interface SessionUser {
  id: string;
  email: string;
  name: string;
  sessionVersion: number;
  /** Requests a minute this user may make: the most generous plan among the user's communities (free's when none). */
  requestsPerMinute: number;
}

/**
 * A column with its table's name. In the select list of a one-table query drizzle leaves columns unqualified, and
 * inside a subquery a bare `"id"` would be the subquery's own table's, not the user's.
 */
const qualified = (column: AnyPgColumn) => sql`${sql.identifier(getTableName(column.table))}.${sql.identifier(column.name)}`;

/** The free plan is the floor: a user in no community, or only in free ones, gets its allowance. */
const requestsPerMinuteOfUser = sql<number>`(
  select max(${qualified(plans.requestsPerMinute)}) from ${plans}
  where ${qualified(plans.id)} = 'free'
     or ${qualified(plans.id)} in (
       select ${qualified(communities.plan)} from ${memberships}
       join ${communities} on ${qualified(communities.id)} = ${qualified(memberships.communityId)}
       where ${qualified(memberships.userId)} = ${qualified(users.id)}
     )
)`.mapWith(Number);

export class AccountsRepository {
  async findByEmail(db: Executor, email: string): Promise<UserRow | undefined> {
    const [row] = await db.select().from(users).where(eq(users.email, email)).limit(1);
    return row;
  }

  async findById(db: Executor, id: string): Promise<UserRow | undefined> {
    const [row] = await db.select().from(users).where(eq(users.id, id)).limit(1);
    return row;
  }

  async findSessionUser(db: Executor, id: string): Promise<SessionUser | undefined> {
    const [row] = await db
      .select({
        id: users.id,
        email: users.email,
        name: users.name,
        sessionVersion: users.sessionVersion,
        requestsPerMinute: requestsPerMinuteOfUser,
      })
      .from(users)
      .where(eq(users.id, id))
      .limit(1);
    return row;
  }

  /** Inserts the user, or returns undefined when the email is taken (the unique index decides, not a prior read). */
  async insert(db: Executor, values: { email: string; name: string; passwordHash: string }): Promise<UserRow | undefined> {
    const [row] = await db.insert(users).values(values).onConflictDoNothing({ target: users.email }).returning();
    return row;
  }

  /**
   * Sets the password and bumps the session version, which ends every session issued before. With `replacing`, only if
   * the stored hash is still that one (compare-and-set). Undefined if the account is gone or its password changed.
   */
  async setPassword(
    db: Executor,
    userId: string,
    passwordHash: string,
    replacing?: string,
  ): Promise<{ email: string; sessionVersion: number } | undefined> {
    const [user] = await db
      .update(users)
      .set({ passwordHash, sessionVersion: sql`${users.sessionVersion} + 1`, updatedAt: sql`now()` })
      .where(and(eq(users.id, userId), replacing === undefined ? undefined : eq(users.passwordHash, replacing)))
      .returning({ email: users.email, sessionVersion: users.sessionVersion });
    return user;
  }
}
