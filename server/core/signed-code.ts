import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * What the ticket codes and the door codes share: a version prefix, a binary
 * payload and an HMAC-SHA256 tag truncated to 128 bits, in base64url. The
 * version is in the tag, so that a code of one kind never passes for another.
 */
const TAG_BYTES = 16;

export class SignedCodeFormat {
  /** The length of every code of this format: anything else is rejected before any arithmetic. */
  readonly length: number;

  constructor(
    private readonly version: string,
    private readonly payloadBytes: number,
  ) {
    this.length = version.length + Math.ceil(((payloadBytes + TAG_BYTES) * 4) / 3);
  }

  /** Signed with the first key: the one in use; the others only verify, so that keys rotate. */
  sign(keys: readonly string[], payload: Buffer): string {
    return this.version + Buffer.concat([payload, this.tag(keys[0] as string, payload)]).toString("base64url");
  }

  /** The payload of an authentic code, else undefined; constant-time in the tag comparison. */
  open(keys: readonly string[], code: string): Buffer | undefined {
    if (code.length !== this.length || !code.startsWith(this.version)) return undefined;
    const bytes = Buffer.from(code.slice(this.version.length), "base64url");
    if (bytes.length !== this.payloadBytes + TAG_BYTES) return undefined;
    const payload = bytes.subarray(0, this.payloadBytes);
    const given = bytes.subarray(this.payloadBytes);
    return keys.some((key) => timingSafeEqual(this.tag(key, payload), given)) ? payload : undefined;
  }

  private tag(key: string, payload: Buffer): Buffer {
    return createHmac("sha256", key).update(this.version).update(payload).digest().subarray(0, TAG_BYTES);
  }
}

export const UUID_BYTES = 16;

export function uuidToBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replace(/-/g, ""), "hex");
}

export function bytesToUuid(bytes: Buffer): string {
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
