import { createHash } from "node:crypto";
import type { CheckinBody, CheckinStats, InvalidReason, SelfCheckinBody } from "../../../shared/api/events.ts";
import type { TicketRow } from "../../../shared/schema/index.ts";
import { AppError } from "../../core/app-error.ts";
import type { Database, Executor } from "../../infra/db/client.ts";
import type { EventAccess } from "../events/index.ts";
import type { TicketCodes } from "../tickets/index.ts";
import type { CheckinTime, CheckinsRepository, DoorTicket, ScanKey, StoredScan } from "./checkins.repo.ts";
import type { DoorCode, DoorCodes } from "./door-code.ts";

/** What a scan found. */
export type ScanOutcome =
  | { result: "checked_in"; ticket: TicketRow; memberName: string; checkedInAt: Date }
  | { result: "already_checked_in"; memberName: string; firstCheckedInAt: Date }
  | { result: "invalid"; reason: InvalidReason };

export type ScanResult = ScanOutcome["result"];

/** A scan's answer as sent: a repeated nonce gets these very bytes back. */
export interface ScanAnswer {
  result: ScanResult;
  body: string;
}

/** Turns an outcome into the body sent (the presenter's work), once, so that it can be stored and replayed. */
export type RenderScan = (outcome: ScanOutcome) => string;

const SCAN_RESULTS: readonly string[] = ["checked_in", "already_checked_in", "invalid"] satisfies ScanResult[];

export class CheckinsService {
  constructor(
    private readonly db: Database,
    private readonly repo: CheckinsRepository,
    private readonly events: EventAccess,
    private readonly codes: TicketCodes,
    private readonly doorCodes: DoorCodes,
    private readonly render: RenderScan,
  ) {}

  /**
   * One scan at the door. The signature is checked before anything about the
   * ticket is read, so a forged code costs no ticket read. A scan with a nonce
   * claims it first (the nonce is the scanner's own, at this event, bound to
   * the code's hash), in the same transaction as the check-in and its stored
   * answer: a retry, even a concurrent one, gets that answer back, and the same
   * nonce with another code is refused (409 nonce_reused) and checks nothing in.
   */
  async scan(eventId: string, staffId: string, input: CheckinBody): Promise<ScanAnswer> {
    const { event } = await this.events.authorize(this.db, eventId, staffId, "scanTickets");
    const check = this.codes.verify(input.code);
    const key = input.nonce === undefined ? undefined : scanKey(event.id, staffId, input.nonce, input.code);
    if (!check.valid || check.claims.eventId !== event.id) {
      return this.refuse(key, check.valid ? "wrong_event" : "unknown_code");
    }
    const { ticketId } = check.claims;
    return this.admitOnce(key, async (db) => this.admit(db, await this.repo.findTicket(db, ticketId, event.id), event.id, staffId));
  }

  /**
   * A member scans the event's door code with their own phone: their ticket is
   * checked in as a staff scan of it would be, with the same answers. The door
   * code proves they stand at the entrance now; the nonce is the member's own,
   * bound to the door code, so that their app's retry of a scan gets its answer
   * back even once that door code has expired.
   */
  async selfCheckIn(eventId: string, memberId: string, input: SelfCheckinBody): Promise<ScanAnswer> {
    const { event } = await this.events.memberOf(this.db, eventId, memberId);
    const door = this.doorCodes.check(input.doorCode, event.id);
    const key = input.nonce === undefined ? undefined : scanKey(event.id, memberId, input.nonce, input.doorCode);
    if (door !== "current") return this.refuse(key, door === "expired" ? "door_code_expired" : "door_code_invalid");
    return this.admitOnce(key, async (db) => {
      const found = await this.repo.findTicketOf(db, event.id, memberId);
      if (!found) throw noTicket();
      return this.admit(db, found, event.id, memberId);
    });
  }

  async doorCode(eventId: string, staffId: string): Promise<DoorCode> {
    const { event } = await this.events.authorize(this.db, eventId, staffId, "scanTickets");
    return this.doorCodes.issue(event.id);
  }

  async stats(eventId: string, staffId: string): Promise<CheckinStats> {
    const { event } = await this.events.authorize(this.db, eventId, staffId, "scanTickets");
    return this.repo.stats(this.db, event.id);
  }

  private answer(outcome: ScanOutcome): ScanAnswer {
    return { result: outcome.result, body: this.render(outcome) };
  }

  /**
   * A code that admits to nothing here. Its answer is not stored: it cannot
   * change. A nonce used before is still that scan's: its answer when the code
   * is the same (a retry of a scan whose door code has since expired), else 409.
   */
  private async refuse(key: ScanKey | undefined, reason: InvalidReason): Promise<ScanAnswer> {
    const earlier = key && (await this.repo.findScan(this.db, key));
    return earlier ? storedAnswer(earlier, key) : this.answer({ result: "invalid", reason });
  }

  /** Without a nonce there is no answer to store: the check-in insert, arbitrated by the primary key, needs no transaction. */
  private async admitOnce(key: ScanKey | undefined, admit: (db: Executor) => Promise<ScanOutcome>): Promise<ScanAnswer> {
    if (!key) return this.answer(await admit(this.db));
    return this.db.transaction(async (tx) => {
      if (!(await this.repo.claimNonce(tx, key))) return this.replay(tx, key);
      const answer = this.answer(await admit(tx));
      await this.repo.storeAnswer(tx, key, answer);
      return answer;
    });
  }

  private async replay(db: Executor, key: ScanKey): Promise<ScanAnswer> {
    const stored = await this.repo.findScan(db, key);
    if (!stored) throw new Error("check-in nonce claimed but its scan is gone");
    return storedAnswer(stored, key);
  }

  /** Two statements after the authorization: the ticket with its holder's name (given), then the check-in (or the one before). */
  private async admit(db: Executor, found: DoorTicket | undefined, eventId: string, scannedBy: string): Promise<ScanOutcome> {
    // A validly signed code for a ticket that no longer exists (deleted with its holder's account, say).
    if (!found) return { result: "invalid", reason: "unknown_code" };
    if (found.ticket.status === "revoked") return { result: "invalid", reason: "revoked" };
    const { ticket, memberName } = found;
    const { checkedInAt, first } =
      (await this.repo.checkIn(db, ticket.id, eventId, scannedBy)) ?? (await this.checkinOfRacingScan(db, ticket.id));
    if (first) return { result: "checked_in", ticket, memberName, checkedInAt };
    return { result: "already_checked_in", memberName, firstCheckedInAt: checkedInAt };
  }

  /** The rare third statement: the other scan that checked the ticket in committed while this one's ran. */
  private async checkinOfRacingScan(db: Executor, ticketId: string): Promise<CheckinTime> {
    const checkedInAt = await this.repo.firstCheckin(db, ticketId);
    if (!checkedInAt) throw new Error("check-in conflicted but no check-in row was found");
    return { checkedInAt, first: false };
  }
}

function scanKey(eventId: string, scannedBy: string, nonce: string, code: string): ScanKey {
  return { eventId, scannedBy, nonce, codeHash: createHash("sha256").update(code).digest("hex") };
}

/** The answer stored with a nonce, if the scan is the same (same code); the same nonce with another code is refused. */
function storedAnswer(stored: StoredScan, key: ScanKey): ScanAnswer {
  if (stored.codeHash !== key.codeHash) throw nonceReused();
  // The claim and its answer commit together: a claimed nonce without an answer cannot be seen.
  if (!stored.result || !SCAN_RESULTS.includes(stored.result) || stored.body === null) {
    throw new Error("check-in nonce claimed without a stored answer");
  }
  return { result: stored.result as ScanResult, body: stored.body };
}

function noTicket(): AppError {
  return new AppError("conflict", "you hold no ticket to this event: take one first", { extra: { reason: "no_ticket" } });
}

function nonceReused(): AppError {
  return new AppError("conflict", "nonce: already used by this scanner for another code; use a new nonce for each scan", {
    extra: { reason: "nonce_reused" },
  });
}
