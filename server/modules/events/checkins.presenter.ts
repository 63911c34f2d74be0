import type { CheckinResponse, InvalidCheckinBody, InvalidReason } from "../../../shared/api/events.ts";
import { AppError } from "../../core/app-error.ts";
import { errorBody } from "../../http/error-handler.ts";

const INVALID_MESSAGES: Record<InvalidReason, string> = {
  unknown_code: "code: not a ticket code of this platform",
  wrong_event: "code: the ticket is for another event",
  revoked: "code: the ticket was revoked",
};

/**
 * The body of a scan's answer. An invalid code answers the check-in result and
 * the error shape of every 4xx in one body (docs/decisions/0005-checkin-invalid-answers.md);
 * the request id is the current request's, also for an answer replayed from a nonce.
 */
export function presentScan(response: CheckinResponse): CheckinResponse | InvalidCheckinBody {
  if (response.result !== "invalid") return response;
  const error = new AppError("invalid_ticket", INVALID_MESSAGES[response.reason], { extra: { reason: response.reason } });
  return { result: "invalid", reason: response.reason, ...errorBody(error) };
}
