import { SignedCodeFormat, UUID_BYTES, uuidToBytes } from "../../core/signed-code.ts";

/**
 * The event's door code: what the display at the entrance shows as a QR for
 * members to scan themselves in. It is signed over the event and a 30-second
 * window under the ticket keys (a format of its own, so that a door code is
 * never a ticket code), and changes with the window: a photo of it sent to
 * someone at home stops admitting within a minute.
 *
 * Layout: "D1" + base64url(event id 16 bytes ‖ window, uint32 big-endian ‖ tag 16 bytes): 50 characters.
 */
export const DOOR_CODE_WINDOW_MS = 30_000;
const FORMAT = new SignedCodeFormat("D1", UUID_BYTES + 4);

export interface DoorCode {
  code: string;
  /** When the display should show the next code: the end of this window. */
  refreshAt: Date;
  /** When this code stops admitting: the end of the next window. */
  expiresAt: Date;
}

/** `current`: admits now; `expired`: authentic, for this event, from an older window; `invalid`: anything else. */
export type DoorCodeCheck = "current" | "expired" | "invalid";

export class DoorCodes {
  /** The ticket keys: the first signs, every one verifies. */
  constructor(
    private readonly keys: readonly string[],
    private readonly now: () => number = () => Date.now(),
  ) {
    if (keys.length === 0) throw new Error("at least one door code signing key is needed");
  }

  issue(eventId: string): DoorCode {
    const window = this.currentWindow();
    const payload = Buffer.alloc(UUID_BYTES + 4);
    uuidToBytes(eventId).copy(payload);
    payload.writeUInt32BE(window, UUID_BYTES);
    return {
      code: FORMAT.sign(this.keys, payload),
      refreshAt: new Date((window + 1) * DOOR_CODE_WINDOW_MS),
      expiresAt: new Date((window + 2) * DOOR_CODE_WINDOW_MS),
    };
  }

  /**
   * A code admits during its own window and the next one, so that a code shown
   * just before it changed still works for the member who scanned it. One
   * window ahead is accepted too: another instance's clock may run a little fast.
   */
  check(code: string, eventId: string): DoorCodeCheck {
    const payload = FORMAT.open(this.keys, code);
    if (!payload || !payload.subarray(0, UUID_BYTES).equals(uuidToBytes(eventId))) return "invalid";
    const age = this.currentWindow() - payload.readUInt32BE(UUID_BYTES);
    if (age < -1) return "invalid";
    return age <= 1 ? "current" : "expired";
  }

  private currentWindow(): number {
    return Math.floor(this.now() / DOOR_CODE_WINDOW_MS);
  }
}
