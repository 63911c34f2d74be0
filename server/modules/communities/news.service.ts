import type { Page, PageQuery } from "../../../shared/api/pagination.ts";
import type { NewsRow } from "../../../shared/schema/index.ts";
import type { Database } from "../../infra/db/client.ts";
import type { Actor } from "../../core/actor.ts";
import { decodeCursor, toPage } from "../../core/pagination.ts";
import { timestampIdCursor } from "../../infra/db/keyset.ts";
import type { CommunityAccess } from "./access.ts";
import type { NewsRepository } from "./news.repo.ts";

const NEWS_CURSOR = timestampIdCursor("news");

/** News of a community: members read, admins write. */
export class NewsService {
  constructor(
    private readonly db: Database,
    private readonly repo: NewsRepository,
    private readonly access: CommunityAccess,
  ) {}

  async publish(author: Actor, slug: string, input: { title: string; body: string }): Promise<NewsRow> {
    const { community } = await this.access.authorize(this.db, { slug }, author.id, "writeNews");
    return this.repo.insert(this.db, { communityId: community.id, authorId: author.id, ...input });
  }

  /** Newest first. */
  async list(reader: Actor, slug: string, query: PageQuery): Promise<Page<NewsRow>> {
    const { community } = await this.access.authorize(this.db, { slug }, reader.id, "read");
    const rows = await this.repo.page(this.db, community.id, query.limit, decodeCursor(NEWS_CURSOR, query.cursor));
    return toPage(rows, query.limit, NEWS_CURSOR, (row) => [row.createdAtKey, row.id] as const);
  }
}
