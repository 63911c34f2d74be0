import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import { drizzle as drizzleNeon } from "drizzle-orm/neon-serverless";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { Pool as NeonPool } from "@neondatabase/serverless";
import * as schema from "../../../shared/schema/index.ts";
import type { DbPool } from "./pool.ts";

export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

/** The drizzle database over whichever driver's pool the process uses. */
export function createDatabase(pool: DbPool): Database {
  // The Neon pool reaches here typed as pg's; drizzle's Neon session handles its differences.
  if ((pool as unknown) instanceof NeonPool) return drizzleNeon({ client: pool as unknown as NeonPool, schema });
  return drizzlePg({ client: pool, schema });
}
