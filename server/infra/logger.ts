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

/**
 * Lines waiting for standard output are kept up to this size. A reader that stops reading (a stalled log collector) would
 * otherwise grow the buffer without end; past it, lines are dropped and their count logged once there is room again.
 */
const STDOUT_BUFFER_MAX_BYTES = 16 * 1_048_576;
const DROP_REPORT_INTERVAL_MS = 10_000;

/** Standard output, asynchronous as pino's default, but bounded. */
function boundedStdout(): { stream: DestinationStream; report(logger: Logger): void } {
  const stream = pino.destination({ dest: 1, sync: false, maxLength: STDOUT_BUFFER_MAX_BYTES });
  let dropped = 0;
  stream.on("drop", () => (dropped += 1));
  return {
    stream,
    report(logger) {
      setInterval(() => {
        if (dropped === 0) return;
        logger.warn({ dropped }, "log lines dropped: standard output did not keep up");
        dropped = 0;
      }, DROP_REPORT_INTERVAL_MS).unref();
    },
  };
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
  if (destination) return pino(options, destination);
  const stdout = boundedStdout();
  const logger = pino(options, stdout.stream);
  stdout.report(logger);
  return logger;
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
