import { AppError } from "../../core/app-error.ts";
import type { Executor, Transaction } from "../../infra/db/client.ts";
import { authorize, type Action } from "../communities/index.ts";
import type { EventsRepository, EventWithRole } from "./events.repo.ts";

/**
 * Everything under /events/:eventId goes through here: the event and the
 * caller's role in its community in one query. An outsider gets the same 404
 * as for an event that does not exist; a member whose role is too low, 403.
 */
export class EventAccess {
  constructor(private readonly events: EventsRepository) {}

  async memberOf(db: Executor, eventId: string, userId: string): Promise<EventWithRole> {
    return found(await this.events.findForMember(db, eventId, userId));
  }

  async authorize(db: Executor, eventId: string, userId: string, action: Action): Promise<EventWithRole> {
    const member = await this.memberOf(db, eventId, userId);
    authorize(member.role, action);
    return member;
  }

  /** memberOf, holding the membership until the transaction ends: a removal waits, then sees what this one wrote. */
  async heldMemberOf(tx: Transaction, eventId: string, userId: string): Promise<EventWithRole> {
    return found(await this.events.findForMember(tx, eventId, userId, { holdMembership: true }));
  }
}

function found(member: EventWithRole | undefined): EventWithRole {
  if (!member) throw AppError.notFound("event");
  return member;
}
