import type { CheckinBody, CheckinResponse, CheckinStats, InvalidReason } from "../../../shared/api/events.ts";
import type { TicketCodes } from "../tickets/ticket-code.ts";
import { presentTicket } from "../tickets/tickets.presenter.ts";
import type { EventAccess } from "./access.ts";
import type { CheckinsRepository } from "./checkins.repo.ts";

/** A scan's answer with its HTTP status: what a repeated nonce gets back unchanged. */
export interface ScanOutcome {
  status: number;
  response: CheckinResponse;
}

function invalid(reason: InvalidReason): ScanOutcome {
  return { status: 422, response: { result: "invalid", reason } };
}

export class CheckinsService {
  constructor(
    private readonly repo: CheckinsRepository,
    private readonly events: EventAccess,
    private readonly codes: TicketCodes,
  ) {}

  /**
   * One scan at the door. The signature is checked before anything about the
   * ticket is read, so a forged code costs no query beyond the caller's own
   * authorization. A scan with a nonce claims it first, in the same
   * transaction as the check-in and its stored answer: a retry, even a
   * concurrent one, gets that answer back.
   */
  async scan(eventId: string, staffId: string, input: CheckinBody): Promise<ScanOutcome> {
    const { event } = await this.events.authorize(eventId, staffId, "scanTickets");
    const check = this.codes.verify(input.code);
    if (!check.valid) return invalid("unknown_code");
    if (check.claims.eventId !== event.id) return invalid("wrong_event");
    const { ticketId } = check.claims;
    const { nonce } = input;
    // Without a nonce there is no answer to store: the check-in insert, arbitrated by the primary key, needs no transaction.
    if (nonce === undefined) return this.admit(this.repo, ticketId, event.id, staffId);

    return this.repo.transaction(async (tx) => {
      if (!(await tx.claimNonce(event.id, nonce))) {
        const stored = await tx.storedAnswer(event.id, nonce);
        // The claim and its answer commit together: a claimed nonce without an answer cannot be seen.
        if (!stored?.httpStatus || !stored.response) throw new Error("check-in nonce claimed without a stored answer");
        return { status: stored.httpStatus, response: stored.response };
      }
      const outcome = await this.admit(tx, ticketId, event.id, staffId);
      await tx.storeAnswer(event.id, nonce, outcome.status, outcome.response);
      return outcome;
    });
  }

  private async admit(tx: CheckinsRepository, ticketId: string, eventId: string, staffId: string): Promise<ScanOutcome> {
    const found = await tx.findTicket(ticketId, eventId);
    // A validly signed code for a ticket that no longer exists (deleted with its holder's account, say).
    if (!found) return invalid("unknown_code");
    if (found.ticket.status === "revoked") return invalid("revoked");
    const member = { name: found.memberName };
    const checkedInAt = await tx.insertCheckin(ticketId, eventId, staffId);
    if (checkedInAt) {
      return {
        status: 201,
        response: { result: "checked_in", ticket: presentTicket(found.ticket, this.codes), member, checkedInAt: checkedInAt.toISOString() },
      };
    }
    const first = await tx.firstCheckin(ticketId);
    if (!first) throw new Error("check-in conflicted but no check-in row was found");
    return { status: 200, response: { result: "already_checked_in", firstCheckedInAt: first.toISOString(), member } };
  }

  async stats(eventId: string, staffId: string): Promise<CheckinStats> {
    const { event } = await this.events.authorize(eventId, staffId, "scanTickets");
    return this.repo.stats(event.id);
  }
}
