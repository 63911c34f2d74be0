import { pino, type DestinationStream, type Logger, type LevelWithSilent } from "pino";
import { requestContext } from "../http/request-context.ts";

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
