import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { databaseUrl } from "../server/test/harness.ts";
import { ownDatabase } from "../server/test/services.ts";
import { ceilingTransactions, measureDbCeiling, PROBE_CALLS, type DbWork } from "./db-ceiling.ts";

describe("a database ceiling", () => {
  it("runs its work from every loop and counts the transactions of one request", async () => {
    const own = await ownDatabase(databaseUrl, "bench_ceiling");
    try {
      const seen = new Set<number>();
      const work: DbWork = {
        calls: "three selects",
        run: async (db, i) => {
          seen.add(i);
          for (let n = 0; n < 3; n++) await db.execute(sql`select 1`);
        },
      };
      const options = { databaseUrl: own.url, statementTimeoutMs: 5_000 };
      const transactions = await ceilingTransactions(work, options);
      expect(transactions).toBeGreaterThan(2.95);
      expect(transactions).toBeLessThan(3.05);
      const result = await measureDbCeiling(work, { ...options, concurrency: 4, poolMax: 2, durationS: 0.5, warmupS: 0 });
      expect(result.requests).toBeGreaterThan(10);
      expect(result.errors).toBe(0);
      // Every request gets its own index, the probe's first: one-time rows are taken in turn.
      expect(seen.size).toBe(PROBE_CALLS + result.requests);
    } finally {
      await own.drop();
    }
  });
});
