import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Signed ticket codes: what the QR code carries. A code holds the ticket id,
 * the event id and an HMAC-SHA256 tag (truncated to 128 bits) over both, under
 * a server key (docs/decisions/0004-signed-ticket-codes.md). A forged or
 * altered code is rejected by arithmetic alone, before any database read.
 *
 * Layout: "T1" + base64url(ticket id 16 bytes ‖ event id 16 bytes ‖ tag 16 bytes): 66 characters.
 */
const VERSION = "T1";
const UUID_BYTES = 16;
const TAG_BYTES = 16;
const PAYLOAD_BYTES = UUID_BYTES * 2;
const CODE_LENGTH = VERSION.length + Math.ceil(((PAYLOAD_BYTES + TAG_BYTES) * 4) / 3);

export interface TicketCodeClaims {
  ticketId: string;
  eventId: string;
}

export type CodeCheck = { valid: true; claims: TicketCodeClaims } | { valid: false };

function uuidToBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replace(/-/g, ""), "hex");
}

function bytesToUuid(bytes: Buffer): string {
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function tag(key: string, payload: Buffer): Buffer {
  return createHmac("sha256", key).update(VERSION).update(payload).digest().subarray(0, TAG_BYTES);
}

export class TicketCodes {
  /** The first key signs; every key verifies, so keys rotate without invalidating issued tickets. */
  constructor(private readonly keys: readonly string[]) {
    if (keys.length === 0) throw new Error("at least one ticket signing key is needed");
  }

  sign(claims: TicketCodeClaims): string {
    const payload = Buffer.concat([uuidToBytes(claims.ticketId), uuidToBytes(claims.eventId)]);
    return VERSION + Buffer.concat([payload, tag(this.keys[0] as string, payload)]).toString("base64url");
  }

  /** Constant-time in the tag comparison; anything malformed is simply invalid. */
  verify(code: string): CodeCheck {
    if (code.length !== CODE_LENGTH || !code.startsWith(VERSION)) return { valid: false };
    const bytes = Buffer.from(code.slice(VERSION.length), "base64url");
    if (bytes.length !== PAYLOAD_BYTES + TAG_BYTES) return { valid: false };
    const payload = bytes.subarray(0, PAYLOAD_BYTES);
    const given = bytes.subarray(PAYLOAD_BYTES);
    const authentic = this.keys.some((key) => timingSafeEqual(tag(key, payload), given));
    if (!authentic) return { valid: false };
    return {
      valid: true,
      claims: { ticketId: bytesToUuid(payload.subarray(0, UUID_BYTES)), eventId: bytesToUuid(payload.subarray(UUID_BYTES)) },
    };
  }
}
