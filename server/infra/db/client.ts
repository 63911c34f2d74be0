import { drizzle } from "drizzle-orm/node-postgres";
import * as schema from "../../../shared/schema/index.ts";
import type { Database, DbPool, DriverName } from "./types.ts";

export type { Database, Executor, Transaction } from "./types.ts";

/** The drizzle database over whichever driver's pool the process uses. */
export async function createDatabase(pool: DbPool, driver: DriverName): Promise<Database> {
  if (driver === "neon") return (await import("./neon.ts")).drizzleOverNeon(pool);
  return drizzle({ client: pool, schema });
}
