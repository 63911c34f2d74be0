import { sql, type AnyColumn, type SQL } from "drizzle-orm";
import { z } from "zod";
import { isSaneDate } from "../../../shared/api/dates.ts";
import { requiredLine } from "../../../shared/api/text.ts";
import { cursorKind, type CursorKind } from "../../core/pagination.ts";

/**
 * Keyset pagination on (a timestamp, an id). The timestamp travels in the cursor
 * as ISO 8601 in UTC with microseconds, read by Postgres itself: a JavaScript
 * Date keeps only milliseconds, and a cursor that loses precision skips or
 * repeats rows.
 */
const MICROSECOND_ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

const timestampKey = z
  .string()
  .regex(MICROSECOND_ISO)
  // Rejects what the pattern lets through but Postgres would refuse (month 13, February 31, year 0): a 400, never a 500.
  .refine((value) => {
    const date = new Date(value);
    return isSaneDate(date) && date.toISOString().slice(0, 23) === value.slice(0, 23);
  });

export type TimestampIdCursor = readonly [timestamp: string, id: string];

/** The cursor of a list ordered by (a timestamp, an id): [timestamp, id]. */
export function timestampIdCursor(list: string): CursorKind<TimestampIdCursor> {
  return cursorKind(list, z.tuple([timestampKey, z.uuid()]));
}

/** The cursor of a list ordered by (a timestamp, a text id such as a Stripe event's): [timestamp, id]. */
export function timestampTextIdCursor(list: string): CursorKind<TimestampIdCursor> {
  return cursorKind(list, z.tuple([timestampKey, requiredLine(255)]));
}

/** The column as the cursor carries it. */
export function timestampKeyOf(column: AnyColumn): SQL<string> {
  return sql<string>`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

/** Rows after the cursor in (timestamp, id) ascending order; a row comparison the (…, timestamp, id) index serves. */
export function afterCursor(timestamp: AnyColumn, id: AnyColumn, cursor: TimestampIdCursor): SQL {
  return sql`(${timestamp}, ${id}) > (${cursor[0]}::timestamptz, ${cursor[1]}::uuid)`;
}

/** Rows after the cursor in (timestamp, id) descending order (newest first). */
export function beforeCursor(timestamp: AnyColumn, id: AnyColumn, cursor: TimestampIdCursor): SQL {
  return sql`(${timestamp}, ${id}) < (${cursor[0]}::timestamptz, ${cursor[1]}::uuid)`;
}
