import { drizzle } from "drizzle-orm/node-postgres";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import * as schema from "../../../shared/schema/index.ts";
import type { DbPool, DriverName } from "./pool.ts";

export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

/** The drizzle database over whichever driver's pool the process uses. */
export async function createDatabase(pool: DbPool, driver: DriverName): Promise<Database> {
  if (driver === "neon") return (await import("./neon.ts")).drizzleOverNeon(pool);
  return drizzle({ client: pool, schema });
}
