import { pino, type DestinationStream, type Logger, type LevelWithSilent } from "pino";
import { requestContext } from "../core/request-context.ts";

export type { Logger } from "pino";

/**
 * Paths never written to a log line, wherever a caller passes them: credentials,
 * cookies and tokens. Bodies are never logged at all.
 */
const REDACTED_PATHS = [
  "password",
  "*.password",
  "token",
  "*.token",
  "secret",
  "*.secret",
  "headers.cookie",
  "headers.authorization",
  "*.headers.cookie",
  "*.headers.authorization",
  'headers["set-cookie"]',
  "connectionString",
  "*.connectionString",
];

export interface LoggerOptions {
  level: LevelWithSilent;
  role: string;
  /** Standard output unless given (tests capture the lines). */
  destination?: DestinationStream;
}

export function createLogger({ level, role, destination }: LoggerOptions): Logger {
  const options = {
    level,
    base: { pid: process.pid, role },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
    serializers: { err: serializeError },
    // Every line logged while a request runs carries its id and user.
    mixin() {
      const context = requestContext.getStore();
      if (!context) return {};
      return context.userId ? { requestId: context.requestId, userId: context.userId } : { requestId: context.requestId };
    },
  } satisfies pino.LoggerOptions;
  return destination ? pino(options, destination) : pino(options);
}

/** Connection strings carry passwords: log the host and database only. */
export function describeDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || "5432"}${parsed.pathname}`;
  } catch {
    return "(unparseable url)";
  }
}

/**
 * drizzle's DrizzleQueryError, recognised by its `query` and `params` (it keeps the name "Error"): the logger is loaded
 * by the primary, which loads no database code (drizzle included).
 */
function isFailedQuery(error: Error): error is Error & { query: string } {
  return typeof (error as { query?: unknown }).query === "string" && "params" in error;
}

interface SerializedError {
  type: string;
  message: string;
  code?: string;
  stack?: string;
  cause?: SerializedError | unknown;
}

/**
 * Errors as logged: type, message, code, stack and cause, and nothing else. A
 * failed query's parameters (emails, password hashes, reset links) are dropped
 * from drizzle's message and stack, and a Postgres error's `detail`, which
 * quotes row values, is not copied.
 */
export function serializeError(error: unknown): SerializedError | unknown {
  if (!(error instanceof Error)) return error;
  const message = isFailedQuery(error) ? `query failed (parameters withheld): ${error.query}` : error.message;
  const code = (error as { code?: unknown }).code;
  const stackFrames = error.stack?.split("\n").filter((line) => line.trimStart().startsWith("at "));
  return {
    type: error.name,
    message,
    ...(typeof code === "string" ? { code } : {}),
    ...(stackFrames ? { stack: [`${error.name}: ${message}`, ...stackFrames].join("\n") } : {}),
    ...(error.cause !== undefined ? { cause: serializeError(error.cause) } : {}),
  };
}
