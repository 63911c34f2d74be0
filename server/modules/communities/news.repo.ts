import { and, desc, eq, getTableColumns } from "drizzle-orm";
import { news, type NewsRow } from "../../../shared/schema/index.ts";
import type { Executor } from "../../infra/db/client.ts";
import { beforeCursor, timestampKeyOf, type TimestampIdCursor } from "../../infra/db/keyset.ts";

export class NewsRepository {
  async insert(db: Executor, values: { communityId: string; authorId: string; title: string; body: string }): Promise<NewsRow> {
    const [row] = await db.insert(news).values(values).returning();
    if (!row) throw new Error("news insert returned no row");
    return row;
  }

  /** Newest first, along the (community, created_at, id) index. */
  async page(db: Executor, communityId: string, limit: number, before: TimestampIdCursor | undefined) {
    return db
      .select({ ...getTableColumns(news), createdAtKey: timestampKeyOf(news.createdAt) })
      .from(news)
      .where(and(eq(news.communityId, communityId), before ? beforeCursor(news.createdAt, news.id, before) : undefined))
      .orderBy(desc(news.createdAt), desc(news.id))
      .limit(limit + 1);
  }
}
