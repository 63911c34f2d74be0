import { z } from "zod";
import { line } from "./text.ts";

/** `?limit=` (default 20, at most 100) and an opaque `?cursor=` on every list. */
export const pageQuery = z.object({
  limit: z.coerce
    .number({ error: "must be a number" })
    .int("must be a whole number")
    .min(1, "at least 1")
    .max(100, "at most 100")
    .default(20),
  cursor: line(512).optional(),
});
export type PageQuery = z.infer<typeof pageQuery>;

export interface Page<Item> {
  items: Item[];
  nextCursor: string | null;
}
