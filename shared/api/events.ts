import { z } from "zod";
import type { ErrorBody } from "../errors.ts";
import type { Role } from "./communities.ts";
import { isoDateTime as isoDate } from "./dates.ts";
import { line, requiredLine } from "./text.ts";

export const createEventBody = z
  .object({
    title: requiredLine(200),
    startsAt: isoDate,
    endsAt: isoDate.optional(),
    location: line(300).optional(),
    capacity: z
      .number({ error: "must be a number" })
      .int("must be a whole number")
      .min(1, "at least 1")
      .max(1_000_000, "at most 1000000")
      .optional(),
  })
  .refine((body) => !body.endsAt || body.endsAt > body.startsAt, { message: "must be after startsAt", path: ["endsAt"] });
export type CreateEventBody = z.infer<typeof createEventBody>;

export const eventParams = z.object({ eventId: z.uuid("must be an event id") });
export const ticketParams = z.object({ ticketId: z.uuid("must be a ticket id") });

export interface EventDto {
  id: string;
  communityId: string;
  title: string;
  startsAt: string;
  endsAt: string | null;
  location: string | null;
  capacity: number | null;
  ticketsIssued: number;
}

export interface EventResponse {
  event: EventDto;
}

/** `GET /api/events/:eventId`: the event, the community it belongs to and the caller's role there. */
export interface EventPageResponse extends EventResponse {
  community: { slug: string; name: string };
  role: Role;
}

export const TICKET_STATUSES = ["valid", "revoked"] as const;

export interface TicketDto {
  id: string;
  eventId: string;
  userId: string;
  code: string;
  status: (typeof TICKET_STATUSES)[number];
}

export interface TicketResponse {
  ticket: TicketDto;
}

/** An item of the caller's own ticket list (`GET /api/tickets`), with the event it admits to. */
export interface MyTicketDto extends TicketDto {
  event: EventDto;
}

export const checkinBody = z.object({
  code: requiredLine(200),
  /** Chosen by the scanner per scan; a retry with the same nonce gets the same answer. */
  nonce: requiredLine(100).optional(),
});
export type CheckinBody = z.infer<typeof checkinBody>;

/** A member's scan of the event's door code (self check-in): the same answers as a staff scan of their ticket. */
export const selfCheckinBody = z.object({
  doorCode: requiredLine(200),
  /** Chosen by the member's app per scan; a retry with the same nonce gets the same answer. */
  nonce: requiredLine(100).optional(),
});
export type SelfCheckinBody = z.infer<typeof selfCheckinBody>;

/** The event's door code, for the display at the entrance (staff). */
export interface DoorCodeResponse {
  code: string;
  /** When the code stops admitting. */
  expiresAt: string;
  /** When the display should fetch and show the next code. */
  refreshAt: string;
}

export const INVALID_REASONS = ["unknown_code", "wrong_event", "revoked", "door_code_expired", "door_code_invalid"] as const;

export type InvalidReason = (typeof INVALID_REASONS)[number];

export type CheckinResponse =
  | { result: "checked_in"; ticket: TicketDto; member: { name: string }; checkedInAt: string }
  | { result: "already_checked_in"; firstCheckedInAt: string; member: { name: string } }
  | { result: "invalid"; reason: InvalidReason };

/**
 * What a 422 answers: the check-in result and, in the same body, the error
 * shape every 4xx carries (docs/decisions/0005-checkin-invalid-answers.md).
 */
export interface InvalidCheckinBody {
  result: "invalid";
  reason: InvalidReason;
  error: ErrorBody["error"] & { reason: InvalidReason };
}

export interface CheckinStats {
  ticketsIssued: number;
  checkedIn: number;
}
