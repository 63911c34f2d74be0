import { z } from "zod";
import type { Page } from "../../shared/api/pagination.ts";
import { line } from "../../shared/api/text.ts";
import { AppError } from "./app-error.ts";

/**
 * Opaque keyset cursors: the name of the list and the sort key of the last
 * item of a page, encoded so clients pass them back unchanged. A tampered
 * cursor, or one taken from another list, is a 400, never a 500 nor a
 * silent first page.
 */
type CursorValues = readonly (string | number)[];

export interface CursorKind<Values extends CursorValues> {
  /** Names the list the cursor belongs to; it travels inside the cursor. */
  list: string;
  shape: z.ZodType<Values>;
}

export function cursorKind<Values extends CursorValues>(list: string, shape: z.ZodType<Values>): CursorKind<Values> {
  return { list, shape };
}

const envelope = z.tuple([
  z.string(),
  z
    .array(z.union([line(300), z.number()]))
    .min(1)
    .max(4),
]);

function encodeCursor<Values extends CursorValues>(kind: CursorKind<Values>, values: Values): string {
  return Buffer.from(JSON.stringify([kind.list, values])).toString("base64url");
}

export function decodeCursor<Values extends CursorValues>(kind: CursorKind<Values>, cursor: string | undefined): Values | undefined {
  if (cursor === undefined) return undefined;
  let decoded: z.infer<typeof envelope>;
  try {
    decoded = envelope.parse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
  } catch {
    throw malformedCursor("malformed, pass back the nextCursor of the previous page");
  }
  const [list, values] = decoded;
  if (list !== kind.list) throw malformedCursor(`belongs to another list (${list.slice(0, 40)}), not to ${kind.list}`);
  const parsed = kind.shape.safeParse(values);
  if (!parsed.success) throw malformedCursor("malformed, pass back the nextCursor of the previous page");
  return parsed.data;
}

function malformedCursor(why: string): AppError {
  return new AppError("validation_failed", `cursor: ${why}`, { details: [{ path: "cursor", message: why }] });
}

/** Cuts the extra row fetched to know whether there is a next page, and builds that page's cursor. */
export function toPage<Row, Values extends CursorValues>(
  rows: Row[],
  limit: number,
  kind: CursorKind<Values>,
  cursorOf: (row: Row) => Values,
): Page<Row> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(kind, cursorOf(last)) : null };
}

/** A page of rows as the API shows it. */
export function presentPage<Row, Item>(page: Page<Row>, present: (row: Row) => Item): Page<Item> {
  return { items: page.items.map(present), nextCursor: page.nextCursor };
}
