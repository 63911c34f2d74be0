import type pg from "pg";

/**
 * A checked-out connection goes back to the pool once, and never in a state
 * that would harm its next user:
 * - as soon as its connection ends: drizzle runs `begin` outside its
 *   try/finally, and never releases a connection whose `begin` failed;
 * - destroyed when it comes back inside a transaction, as happens when a
 *   statement's answer never came and `rollback` could not run after it.
 */
export function releasedOnce(client: pg.PoolClient): pg.PoolClient {
  const release = client.release;
  let released = false;
  const releaseOnce = (error?: Error | boolean) => {
    if (released) return;
    released = true;
    client.off("end", onEnd);
    if (!error && insideTransaction(client)) {
      client.connection.stream.destroy();
      error = new Error("connection released inside a transaction");
    }
    release(error);
  };
  const onEnd = () => releaseOnce(new Error("connection ended while checked out"));
  client.once("end", onEnd);
  client.release = releaseOnce;
  return client;
}

/** Neon's port of pg has no transaction status; its connections are only checked by the other rules. */
function insideTransaction(client: pg.PoolClient): boolean {
  return typeof client.getTransactionStatus === "function" && client.getTransactionStatus() !== "I";
}
