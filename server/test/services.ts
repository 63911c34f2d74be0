import { randomBytes } from "node:crypto";
import net from "node:net";
import pg from "pg";

/** True when something accepts TCP connections at host:port within the timeout. */
export function answers(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** One query on a connection of its own, for tests that work on a database of their own (or on the server itself). */
export async function query<Row extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<Row[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<Row>(text, values)).rows;
  } finally {
    await client.end();
  }
}

export interface OwnDatabase {
  url: string;
  /** Drops it, with whatever is still connected to it. */
  drop(): Promise<void>;
}

/**
 * A new database, named for its user alone (`prefix`, a time and a random suffix), on the server of `adminUrl`, created
 * and later dropped through that connection: the run's database of the test set-up, the bench's, and those of tests
 * whose job runners must see no other test's jobs (every test file of a run shares the run's database otherwise).
 */
export async function ownDatabase(adminUrl: string, prefix: string): Promise<OwnDatabase> {
  const name = `${prefix}_${Date.now()}_${randomBytes(3).toString("hex")}`;
  await query(adminUrl, `create database ${name}`);
  return {
    url: withDatabase(adminUrl, name),
    drop: async () => void (await query(adminUrl, `drop database if exists ${name} with (force)`)),
  };
}
