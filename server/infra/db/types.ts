import type pg from "pg";
import type { NodePgQueryResultHKT } from "drizzle-orm/node-postgres";
import type { PgDatabase } from "drizzle-orm/pg-core";
import type * as schema from "../../../shared/schema/index.ts";

/**
 * The types every database file shares, in a file that imports no code, so
 * that the pool, the drizzle client and the Neon driver depend on it and never
 * on each other.
 */

export type DriverSetting = "auto" | "pg" | "neon";
export type DriverName = "pg" | "neon";

/**
 * Neon's Pool is a port of pg's and implements the same interface, so the rest
 * of the code sees one pool type whatever the driver.
 */
export type DbPool = pg.Pool;

/** Both drivers return pg-shaped results (`rows`, `rowCount`), so one type serves both. */
export type Database = PgDatabase<NodePgQueryResultHKT, typeof schema>;

export type Transaction = Parameters<Parameters<Database["transaction"]>[0]>[0];

/** The database or an open transaction: repositories take the one their service gives them. */
export type Executor = Database | Transaction;
