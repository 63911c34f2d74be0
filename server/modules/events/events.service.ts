import type { CreateEventBody } from "../../../shared/api/events.ts";
import type { PageQuery } from "../../../shared/api/pagination.ts";
import type { EventRow } from "../../../shared/schema/index.ts";
import { decodeCursor, toPage } from "../../http/cursor.ts";
import type { CommunityAccess } from "../communities/access.ts";
import type { EventAccess } from "./access.ts";
import type { EventsRepository } from "./events.repo.ts";
import { timestampIdCursor } from "../../infra/db/keyset.ts";

export interface RowPage<Row> {
  items: Row[];
  nextCursor: string | null;
}

export class EventsService {
  constructor(
    private readonly repo: EventsRepository,
    private readonly communities: CommunityAccess,
    private readonly access: EventAccess,
  ) {}

  async create(slug: string, userId: string, input: CreateEventBody): Promise<EventRow> {
    const { community } = await this.communities.authorize({ slug }, userId, "manageEvents");
    return this.repo.insert({
      communityId: community.id,
      title: input.title,
      startsAt: input.startsAt,
      endsAt: input.endsAt ?? null,
      location: input.location || null,
      capacity: input.capacity ?? null,
    });
  }

  /** Upcoming first: starts_at ascending, then id. */
  async list(slug: string, userId: string, page: PageQuery): Promise<RowPage<EventRow>> {
    const { community } = await this.communities.authorize({ slug }, userId, "read");
    const after = decodeCursor(page.cursor, timestampIdCursor);
    const rows = await this.repo.listByCommunity(community.id, page.limit, after);
    return toPage(
      rows,
      page.limit,
      ({ startsAtKey: _key, ...event }) => event,
      (row) => [row.startsAtKey, row.id],
    );
  }

  async get(eventId: string, userId: string): Promise<EventRow> {
    const { event } = await this.access.authorize(eventId, userId, "read");
    return event;
  }
}
