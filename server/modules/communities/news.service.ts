import type { NewsDto } from "../../../shared/api/communities.ts";
import type { Page, PageQuery } from "../../../shared/api/pagination.ts";
import type { Database } from "../../infra/db/client.ts";
import type { AuthenticatedUser } from "../../http/middleware/auth.ts";
import { decodeCursor, toPage } from "../../http/cursor.ts";
import { timestampIdCursor } from "../../infra/db/keyset.ts";
import type { CommunityAccess } from "./access.ts";
import type { NewsRepository } from "./news.repo.ts";
import { presentNews } from "./communities.presenter.ts";

/** News of a community: members read, admins write. */
export class NewsService {
  constructor(
    private readonly db: Database,
    private readonly repo: NewsRepository,
    private readonly access: CommunityAccess,
  ) {}

  async publish(author: AuthenticatedUser, slug: string, input: { title: string; body: string }): Promise<NewsDto> {
    const { community } = await this.access.authorize({ slug }, author.id, "writeNews");
    return presentNews(await this.repo.insert(this.db, { communityId: community.id, authorId: author.id, ...input }));
  }

  async list(reader: AuthenticatedUser, slug: string, query: PageQuery): Promise<Page<NewsDto>> {
    const { community } = await this.access.authorize({ slug }, reader.id, "read");
    const rows = await this.repo.page(this.db, community.id, query.limit, decodeCursor(query.cursor, timestampIdCursor));
    return toPage(rows, query.limit, presentNews, (row) => [row.createdAtKey, row.id]);
  }
}
