import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { TicketCodes } from "./ticket-code.ts";

const KEY = "k".repeat(32);

describe("signed ticket codes", () => {
  const codes = new TicketCodes([KEY]);
  const claims = { ticketId: randomUUID(), eventId: randomUUID() };

  it("round-trips the ticket and event ids in 66 URL-safe characters", () => {
    const code = codes.sign(claims);
    expect(code).toMatch(/^T1[A-Za-z0-9_-]{64}$/);
    expect(codes.verify(code)).toEqual({ valid: true, claims });
  });

  it("rejects any altered character, a foreign key's code, and malformed input", () => {
    const code = codes.sign(claims);
    for (let position = 2; position < code.length; position += 7) {
      const altered = code.slice(0, position) + (code[position] === "A" ? "B" : "A") + code.slice(position + 1);
      expect(codes.verify(altered).valid).toBe(false);
    }
    expect(new TicketCodes(["x".repeat(32)]).verify(code).valid).toBe(false);
    for (const junk of ["", "T1", "T2" + code.slice(2), code + "A", "not a code at all", "T1" + "!".repeat(64)]) {
      expect(codes.verify(junk).valid).toBe(false);
    }
  });

  it("verifies codes signed with a previous key after rotation", () => {
    const old = new TicketCodes(["old-key".padEnd(32, "-")]).sign(claims);
    expect(new TicketCodes([KEY, "old-key".padEnd(32, "-")]).verify(old)).toEqual({ valid: true, claims });
  });
});
