/**
 * What a failed database call means: the database cannot be reached right now
 * (retry later), as opposed to a query the database answered with an error.
 */

/** Network errors and SQLSTATEs of a server refusing connections for now (class 08 is added below). */
const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EHOSTDOWN",
  "ENETDOWN",
  "EPIPE",
  "EAI_AGAIN",
  // A name that does not resolve yet (a container not started) as often as a typo; waiting logs the message.
  "ENOTFOUND",
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now: starting up, shutting down, in recovery
  "53300", // too_many_connections
]);
/** pg and pg-pool say it in words only: a lost connection, a connection attempt or a query that got no answer in time. */
const UNREACHABLE_MESSAGES =
  /Connection terminated|Client has encountered a connection error|Client was closed and is not queryable|Query read timeout|^timeout expired/;
/** pg-pool's message when no pooled connection was free in time: the database answers, this process is just busy. */
const POOL_EXHAUSTED_MESSAGE = "timeout exceeded when trying to connect";

/** Every error of the chain (drizzle wraps the driver's error in its own; graphile-worker may gather several). */
function* causeChain(error: unknown): Generator<Error> {
  for (let current = error; current instanceof Error; current = current.cause) {
    yield current;
    if (current instanceof AggregateError) for (const inner of current.errors) yield* causeChain(inner);
  }
}

export function isDatabaseUnreachable(error: unknown): boolean {
  for (const current of causeChain(error)) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && (UNREACHABLE_CODES.has(code) || code.startsWith("08"))) return true;
    if (UNREACHABLE_MESSAGES.test(current.message)) return true;
  }
  return false;
}

export function isPoolExhausted(error: unknown): boolean {
  for (const current of causeChain(error)) if (current.message === POOL_EXHAUSTED_MESSAGE) return true;
  return false;
}
