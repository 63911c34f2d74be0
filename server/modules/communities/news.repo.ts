import { and, desc, eq, lt, or } from "drizzle-orm";
import { news, type NewsRow } from "../../../shared/schema/index.ts";
import type { Executor } from "../../infra/db/client.ts";

export class NewsRepository {
  async insert(db: Executor, values: { communityId: string; authorId: string; title: string; body: string }): Promise<NewsRow> {
    const [row] = await db.insert(news).values(values).returning();
    if (!row) throw new Error("news insert returned no row");
    return row;
  }

  /** Newest first, along the (community, created_at, id) index. */
  async page(db: Executor, communityId: string, limit: number, before?: { createdAt: Date; id: string }): Promise<NewsRow[]> {
    const conditions = [eq(news.communityId, communityId)];
    if (before) {
      conditions.push(or(lt(news.createdAt, before.createdAt), and(eq(news.createdAt, before.createdAt), lt(news.id, before.id)))!);
    }
    return db
      .select()
      .from(news)
      .where(and(...conditions))
      .orderBy(desc(news.createdAt), desc(news.id))
      .limit(limit + 1);
  }
}
