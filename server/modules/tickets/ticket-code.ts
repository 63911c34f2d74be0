import { SignedCodeFormat, UUID_BYTES, bytesToUuid, uuidToBytes } from "../../core/signed-code.ts";

/**
 * Signed ticket codes: what the QR code carries. A code holds the ticket id,
 * the event id and an HMAC-SHA256 tag (truncated to 128 bits) over both, under
 * a server key (docs/decisions/0004-signed-ticket-codes.md). A forged or
 * altered code is rejected by arithmetic alone, before any database read.
 *
 * Layout: "T1" + base64url(ticket id 16 bytes ‖ event id 16 bytes ‖ tag 16 bytes): 66 characters.
 */
const FORMAT = new SignedCodeFormat("T1", UUID_BYTES * 2);

export interface TicketCodeClaims {
  ticketId: string;
  eventId: string;
}

export type CodeCheck = { valid: true; claims: TicketCodeClaims } | { valid: false };

export class TicketCodes {
  /** The first key signs; every key verifies, so keys rotate without invalidating issued tickets. */
  constructor(private readonly keys: readonly string[]) {
    if (keys.length === 0) throw new Error("at least one ticket signing key is needed");
  }

  sign(claims: TicketCodeClaims): string {
    return FORMAT.sign(this.keys, Buffer.concat([uuidToBytes(claims.ticketId), uuidToBytes(claims.eventId)]));
  }

  /** Anything malformed or unsigned is simply invalid. */
  verify(code: string): CodeCheck {
    const payload = FORMAT.open(this.keys, code);
    if (!payload) return { valid: false };
    return {
      valid: true,
      claims: { ticketId: bytesToUuid(payload.subarray(0, UUID_BYTES)), eventId: bytesToUuid(payload.subarray(UUID_BYTES)) },
    };
  }
}
