import type { CheckinResponse, InvalidCheckinBody, InvalidReason } from "../../../shared/api/events.ts";
import { AppError } from "../../core/app-error.ts";
import { errorBody } from "../../http/error-handler.ts";
import { presentTicket, type TicketCodes } from "../tickets/index.ts";
import type { ScanOutcome, ScanResult } from "./checkins.service.ts";

const INVALID_MESSAGES: Record<InvalidReason, string> = {
  unknown_code: "code: not a ticket code of this platform",
  wrong_event: "code: the ticket is for another event",
  revoked: "code: the ticket was revoked",
  door_code_expired: "doorCode: the code at the entrance has changed since it was scanned; scan it again",
  door_code_invalid: "doorCode: not the door code of this event",
};

const DOOR_CODE_REASONS: ReadonlySet<InvalidReason> = new Set(["door_code_expired", "door_code_invalid"]);

/** The status of each kind of answer: the route's choice, the same for a fresh answer and a replayed one. */
export const SCAN_STATUS: Record<ScanResult, number> = { checked_in: 201, already_checked_in: 200, invalid: 422 };

/**
 * The body of a scan's answer. An invalid code answers the check-in result and
 * the error shape of every 4xx in one body (docs/decisions/0005-checkin-invalid-answers.md),
 * with the id of the request that made the scan.
 */
export function presentScan(outcome: ScanOutcome, codes: TicketCodes): CheckinResponse | InvalidCheckinBody {
  switch (outcome.result) {
    case "checked_in":
      return {
        result: "checked_in",
        ticket: presentTicket(outcome.ticket, codes),
        member: { name: outcome.memberName },
        checkedInAt: outcome.checkedInAt.toISOString(),
      };
    case "already_checked_in":
      return {
        result: "already_checked_in",
        firstCheckedInAt: outcome.firstCheckedInAt.toISOString(),
        member: { name: outcome.memberName },
      };
    case "invalid": {
      const code = DOOR_CODE_REASONS.has(outcome.reason) ? "invalid_door_code" : "invalid_ticket";
      const error = new AppError(code, INVALID_MESSAGES[outcome.reason], { extra: { reason: outcome.reason } });
      return { result: "invalid", reason: outcome.reason, ...errorBody(error) } as InvalidCheckinBody;
    }
  }
}

/** The bytes sent for an outcome: built once, stored with the nonce, replayed unchanged. */
export function scanRenderer(codes: TicketCodes): (outcome: ScanOutcome) => string {
  return (outcome) => JSON.stringify(presentScan(outcome, codes));
}
