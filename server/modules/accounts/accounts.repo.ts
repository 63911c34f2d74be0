import { eq } from "drizzle-orm";
import { users, type UserRow } from "../../../shared/schema/index.ts";
import type { Database } from "../../infra/db/client.ts";

export class AccountsRepository {
  constructor(private readonly db: Database) {}

  async findByEmail(email: string): Promise<UserRow | undefined> {
    const [row] = await this.db.select().from(users).where(eq(users.email, email)).limit(1);
    return row;
  }

  async findById(id: string): Promise<UserRow | undefined> {
    const [row] = await this.db.select().from(users).where(eq(users.id, id)).limit(1);
    return row;
  }

  async findSessionUser(id: string) {
    const [row] = await this.db
      .select({ id: users.id, email: users.email, name: users.name, sessionVersion: users.sessionVersion })
      .from(users)
      .where(eq(users.id, id))
      .limit(1);
    return row;
  }

  /** Inserts the user, or returns undefined when the email is taken (the unique index decides, not a prior read). */
  async insert(values: { email: string; name: string; passwordHash: string }): Promise<UserRow | undefined> {
    const [row] = await this.db.insert(users).values(values).onConflictDoNothing({ target: users.email }).returning();
    return row;
  }
}
