import type { CreateEventBody } from "../../../shared/api/events.ts";
import type { Page, PageQuery } from "../../../shared/api/pagination.ts";
import type { Role } from "../../../shared/api/communities.ts";
import type { CommunityRow, EventRow } from "../../../shared/schema/index.ts";
import { decodeCursor, toPage } from "../../core/pagination.ts";
import type { Database } from "../../infra/db/client.ts";
import { timestampIdCursor } from "../../infra/db/keyset.ts";
import { authorize, type CommunityAccess } from "../communities/index.ts";
import type { PlansService } from "../plans/index.ts";
import type { EventAccess } from "./access.ts";
import type { EventsRepository } from "./events.repo.ts";

const EVENTS_CURSOR = timestampIdCursor("events");

export interface EventWithCommunity {
  event: EventRow;
  community: CommunityRow;
  role: Role;
}

export class EventsService {
  constructor(
    private readonly db: Database,
    private readonly repo: EventsRepository,
    private readonly communities: CommunityAccess,
    private readonly access: EventAccess,
    private readonly plans: PlansService,
  ) {}

  /**
   * Under the community's row lock, so that two events created at once cannot both pass the plan's monthly limit
   * (counted by the month, UTC, in which the new event starts).
   */
  async create(slug: string, userId: string, input: CreateEventBody): Promise<EventRow> {
    return this.db.transaction(async (tx) => {
      const { community, role } = await this.communities.lockedMemberOf(tx, { slug }, userId);
      authorize(role, "manageEvents");
      const sameMonth = await this.repo.countStartingInMonthOf(tx, community.id, input.startsAt);
      await this.plans.assertRoom(tx, community.plan, "eventsPerMonth", sameMonth);
      return this.repo.insert(tx, {
        communityId: community.id,
        title: input.title,
        startsAt: input.startsAt,
        endsAt: input.endsAt ?? null,
        location: input.location || null,
        capacity: input.capacity ?? null,
      });
    });
  }

  /** Upcoming first: starts_at ascending, then id. */
  async list(slug: string, userId: string, page: PageQuery): Promise<Page<EventRow>> {
    const { community } = await this.communities.authorize(this.db, { slug }, userId, "read");
    const rows = await this.repo.listByCommunity(this.db, community.id, page.limit, decodeCursor(EVENTS_CURSOR, page.cursor));
    return toPage(rows, page.limit, EVENTS_CURSOR, (row) => [row.startsAtKey, row.id] as const);
  }

  /** The event, its community and the caller's role there: what the event's page shows and offers (a scanner for staff). */
  async get(eventId: string, userId: string): Promise<EventWithCommunity> {
    const { event } = await this.access.authorize(this.db, eventId, userId, "read");
    const { community, role } = await this.communities.memberOf(this.db, { id: event.communityId }, userId);
    return { event, community, role };
  }
}
