import { z } from "zod";
import { AppError } from "../core/app-error.ts";

/**
 * Opaque keyset cursors: the sort key of the last item of a page, encoded so
 * clients pass it back unchanged. A tampered or foreign cursor is a 400, never a 500.
 */
export function encodeCursor(values: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(values)).toString("base64url");
}

const cursorShape = z
  .array(z.union([z.string().max(300), z.number()]))
  .min(1)
  .max(4);

export function decodeCursor<const Shape extends z.ZodType>(cursor: string | undefined, shape: Shape): z.infer<Shape> | undefined {
  if (cursor === undefined) return undefined;
  try {
    const values: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    return shape.parse(cursorShape.parse(values));
  } catch {
    throw new AppError("validation_failed", "cursor: malformed, pass back the nextCursor of the previous page", {
      details: [{ path: "cursor", message: "malformed" }],
    });
  }
}

/** Cuts the extra row fetched to know whether there is a next page, and builds that page's cursor. */
export function toPage<Row, Item>(rows: Row[], limit: number, present: (row: Row) => Item, cursorOf: (row: Row) => (string | number)[]) {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items: items.map(present), nextCursor: rows.length > limit && last !== undefined ? encodeCursor(cursorOf(last)) : null };
}
