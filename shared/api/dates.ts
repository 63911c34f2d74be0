import { z } from "zod";

/**
 * Dates the product accepts: from 1970 to 2199, which holds every event a
 * community plans or records, and stays far inside what JavaScript and Postgres
 * both represent (year 0 and years past 9999 are not dates to Postgres).
 */
export const EARLIEST_DATE = new Date("1970-01-01T00:00:00Z");
export const LATEST_DATE = new Date("2200-01-01T00:00:00Z");

export function isSaneDate(date: Date): boolean {
  const time = date.getTime();
  return !Number.isNaN(time) && time >= EARLIEST_DATE.getTime() && time < LATEST_DATE.getTime();
}

/** An ISO 8601 date-time with a time zone (`Z` or an offset), between 1970 and 2199, as a Date. */
export const isoDateTime = z.iso
  .datetime({ offset: true, error: "must be an ISO 8601 date-time with a time zone" })
  .transform((value) => new Date(value))
  .refine(isSaneDate, "must be between 1970 and 2199");
