import pg from "pg";
import { describe, expect, it } from "vitest";
import { databaseUrl } from "../server/test/harness.ts";
import { ownDatabase } from "../server/test/services.ts";

async function databaseExists(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const name = new URL(url).pathname.slice(1);
    const { rowCount } = await client.query("select 1 from pg_database where datname = $1", [name]);
    return rowCount === 1;
  } finally {
    await client.end();
  }
}

describe("the bench's database", () => {
  it("is its run's own: two runs on one server get two databases, and one run's end drops only its own", async () => {
    const first = await ownDatabase(databaseUrl, "community_bench");
    const second = await ownDatabase(databaseUrl, "community_bench");
    try {
      expect(first.url).not.toBe(second.url);
      await first.drop();
      expect(await databaseExists(first.url)).toBe(false);
      expect(await databaseExists(second.url)).toBe(true);
    } finally {
      await Promise.all([first.drop(), second.drop()]);
    }
    expect(await databaseExists(second.url)).toBe(false);
  });
});
