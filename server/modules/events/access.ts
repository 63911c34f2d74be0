import { AppError } from "../../core/app-error.ts";
import { authorize, type Action } from "../communities/policy.ts";
import type { EventsRepository, EventWithRole } from "./events.repo.ts";

/**
 * Everything under /events/:eventId goes through here: the event and the
 * caller's role in its community in one query. An outsider gets the same 404
 * as for an event that does not exist; a member whose role is too low, 403.
 */
export class EventAccess {
  constructor(private readonly events: EventsRepository) {}

  async memberOf(eventId: string, userId: string): Promise<EventWithRole> {
    const found = await this.events.findForMember(eventId, userId);
    if (!found) throw AppError.notFound("event");
    return found;
  }

  async authorize(eventId: string, userId: string, action: Action): Promise<EventWithRole> {
    const found = await this.memberOf(eventId, userId);
    authorize(found.role, action);
    return found;
  }
}
