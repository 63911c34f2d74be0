import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { TicketCodes } from "../tickets/index.ts";
import { DOOR_CODE_WINDOW_MS, DoorCodes } from "./door-code.ts";

/** Door codes read by a clock the test sets. */
function doorCodesAt(start: number, keys = ["door key"]) {
  const clock = { now: start };
  return { clock, codes: new DoorCodes(keys, () => clock.now) };
}

describe("door codes", () => {
  const eventId = randomUUID();
  const start = 1_800_000_000_000;

  it("admits during its window and the next one, then expires; refreshAt and expiresAt say when", () => {
    const { clock, codes } = doorCodesAt(start);
    const door = codes.issue(eventId);
    expect(door.code).toMatch(/^D1[\w-]{48}$/);
    expect(door.refreshAt.getTime() - door.expiresAt.getTime()).toBe(-DOOR_CODE_WINDOW_MS);
    expect(door.refreshAt.getTime()).toBeGreaterThan(start);
    expect(door.refreshAt.getTime() - start).toBeLessThanOrEqual(DOOR_CODE_WINDOW_MS);
    expect(codes.check(door.code, eventId)).toBe("current");
    clock.now = door.expiresAt.getTime() - 1;
    expect(codes.check(door.code, eventId)).toBe("current");
    clock.now = door.expiresAt.getTime();
    expect(codes.check(door.code, eventId)).toBe("expired");
    clock.now = start + 24 * 3600_000;
    expect(codes.check(door.code, eventId)).toBe("expired");
  });

  it("changes with the window", () => {
    const { clock, codes } = doorCodesAt(start);
    const first = codes.issue(eventId).code;
    expect(codes.issue(eventId).code).toBe(first);
    clock.now += DOOR_CODE_WINDOW_MS;
    expect(codes.issue(eventId).code).not.toBe(first);
  });

  it("accepts a code one window ahead (a clock running fast elsewhere), not two", () => {
    const ahead = doorCodesAt(start + DOOR_CODE_WINDOW_MS).codes.issue(eventId).code;
    const farAhead = doorCodesAt(start + 2 * DOOR_CODE_WINDOW_MS).codes.issue(eventId).code;
    const { codes } = doorCodesAt(start);
    expect(codes.check(ahead, eventId)).toBe("current");
    expect(codes.check(farAhead, eventId)).toBe("invalid");
  });

  it("refuses another event's code, another key's, an altered one, a ticket code and junk", () => {
    const { codes } = doorCodesAt(start);
    const code = codes.issue(eventId).code;
    expect(codes.check(code, randomUUID())).toBe("invalid");
    expect(codes.check(doorCodesAt(start, ["other key"]).codes.issue(eventId).code, eventId)).toBe("invalid");
    for (let position = 2; position < code.length; position += 7) {
      const altered = code.slice(0, position) + (code[position] === "A" ? "B" : "A") + code.slice(position + 1);
      expect(codes.check(altered, eventId)).toBe("invalid");
    }
    const ticketCode = new TicketCodes(["door key"]).sign({ ticketId: randomUUID(), eventId });
    for (const junk of [ticketCode, "", "D1", `D1${"A".repeat(48)}`, `${code}A`, code.slice(0, -1), "é".repeat(50)]) {
      expect(codes.check(junk, eventId)).toBe("invalid");
    }
  });

  it("verifies with every key and signs with the first, so keys rotate", () => {
    const oldKey = doorCodesAt(start, ["old"]).codes.issue(eventId).code;
    const { codes } = doorCodesAt(start, ["new", "old"]);
    expect(codes.check(oldKey, eventId)).toBe("current");
    expect(doorCodesAt(start, ["old"]).codes.check(codes.issue(eventId).code, eventId)).toBe("invalid");
  });
});
