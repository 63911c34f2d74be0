import type { EventDto } from "../../../shared/api/events.ts";
import type { EventRow } from "../../../shared/schema/index.ts";

export function presentEvent(row: EventRow): EventDto {
  return {
    id: row.id,
    communityId: row.communityId,
    title: row.title,
    startsAt: row.startsAt.toISOString(),
    endsAt: row.endsAt?.toISOString() ?? null,
    location: row.location,
    capacity: row.capacity,
    ticketsIssued: row.ticketsIssued,
  };
}
