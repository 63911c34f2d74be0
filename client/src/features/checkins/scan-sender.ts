import type { CheckinResponse } from "../../../../shared/api/events.ts";
import { api, ApiError } from "../../api/http.ts";
import type { QueuedScan } from "./scan-queue.ts";

/** Beyond this the network is called slow and the scan waits in the queue: the door does not stand still for it. */
export const SEND_TIMEOUT_MS = 4_000;

/** What sending one scan came to. */
export type SendOutcome =
  | { kind: "answered"; scan: QueuedScan }
  /** Not answered (offline, slow, server busy): the scan stays queued and is sent again later. */
  | { kind: "unreachable"; signedOut: boolean };

/** Sends one queued scan with its nonce: a retry of a scan the server already answered gets that same answer. */
export async function sendScan(scan: QueuedScan, path: string, body: Record<string, string>): Promise<SendOutcome> {
  try {
    const answer = await api<CheckinResponse>(path, {
      method: "POST",
      body: { ...body, nonce: scan.nonce },
      signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
    });
    return { kind: "answered", scan: answered(scan, answer) };
  } catch (error) {
    return outcomeOfError(scan, error);
  }
}

function answered(scan: QueuedScan, answer: CheckinResponse): QueuedScan {
  const memberName = "member" in answer ? answer.member.name : undefined;
  const firstCheckedInAt = answer.result === "already_checked_in" ? answer.firstCheckedInAt : undefined;
  return { ...scan, state: "answered", result: answer.result, memberName, firstCheckedInAt };
}

function outcomeOfError(scan: QueuedScan, error: unknown): SendOutcome {
  if (!(error instanceof ApiError)) return { kind: "unreachable", signedOut: false };
  // 422: the code admits to nothing here (forged, another event's, revoked, a stale door code): that is the answer.
  if (error.status === 422)
    return { kind: "answered", scan: { ...scan, state: "answered", result: "invalid", reason: error.reason, message: error.message } };
  // Signed out (the session expired): kept until someone signs in again on this device.
  if (error.status === 401) return { kind: "unreachable", signedOut: true };
  // Throttled, overloaded, unavailable or no answer: the same scan, later.
  if (error.status === 0 || error.status === 429 || error.status >= 500) return { kind: "unreachable", signedOut: false };
  // Anything else (no longer staff, the event gone, a nonce refused) will not change by sending again.
  return { kind: "answered", scan: { ...scan, state: "problem", reason: error.reason ?? error.code, message: error.message } };
}
