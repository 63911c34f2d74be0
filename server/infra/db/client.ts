import { drizzle, type NodePgQueryResultHKT } from "drizzle-orm/node-postgres";
import type { PgDatabase } from "drizzle-orm/pg-core";
import * as schema from "../../../shared/schema/index.ts";
import type { DbPool, DriverName } from "./pool.ts";

/** Both drivers return pg-shaped results (`rows`, `rowCount`), so one type serves both. */
export type Database = PgDatabase<NodePgQueryResultHKT, typeof schema>;

/** The drizzle database over whichever driver's pool the process uses. */
export async function createDatabase(pool: DbPool, driver: DriverName): Promise<Database> {
  if (driver === "neon") return (await import("./neon.ts")).drizzleOverNeon(pool);
  return drizzle({ client: pool, schema });
}

export type Transaction = Parameters<Parameters<Database["transaction"]>[0]>[0];

/** The database or an open transaction: repositories take either, so services decide where transactions begin. */
export type Executor = Database | Transaction;
