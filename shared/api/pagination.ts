import { z } from "zod";

/** `?limit=` (default 20, at most 100) and an opaque `?cursor=` on every list. */
export const pageQuery = z.object({
  limit: z.coerce
    .number({ error: "must be a number" })
    .int("must be a whole number")
    .min(1, "at least 1")
    .max(100, "at most 100")
    .default(20),
  cursor: z.string().max(512, "malformed cursor").optional(),
});
export type PageQuery = z.infer<typeof pageQuery>;

export interface Page<Item> {
  items: Item[];
  nextCursor: string | null;
}
