import { and, eq, lt, sql } from "drizzle-orm";
import { emails } from "../../../shared/schema/index.ts";
import type { Executor } from "../../infra/db/client.ts";

/** The emails table: every email the product sends, or captures when no provider is configured. */
export class EmailsRepository {
  /** Captured emails older than this: the links they carry have long expired, and nobody is to read them any more. */
  async deleteCapturedOlderThan(db: Executor, ageS: number): Promise<number> {
    const deleted = await db
      .delete(emails)
      .where(and(eq(emails.status, "captured"), lt(emails.createdAt, sql`now() - make_interval(secs => ${ageS}::int)`)))
      .returning({ id: emails.id });
    return deleted.length;
  }
}
