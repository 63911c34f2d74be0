import type { ErrorRequestHandler, RequestHandler } from "express";
import type { Logger } from "pino";
import type { ErrorBody } from "../../shared/errors.ts";
import { AppError } from "../core/app-error.ts";
import { currentRequestId } from "../core/request-context.ts";

/** Errors raised by body-parser and friends carry an HTTP status and a `type`. */
interface HttpLibraryError {
  status?: number;
  statusCode?: number;
  type?: string;
  expose?: boolean;
}

/** SQLSTATE classes and socket errors that mean "the database cannot be reached right now", not "the query is wrong". */
const DATABASE_UNREACHABLE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "57P01", "57P02", "57P03", "53300"]);
const DATABASE_UNREACHABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/;

/** Looks through the cause chain (drizzle wraps the driver's error). */
function isDatabaseUnreachable(error: unknown): boolean {
  for (let current = error; current instanceof Error; current = current.cause) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && (DATABASE_UNREACHABLE_CODES.has(code) || code.startsWith("08"))) return true;
    if (DATABASE_UNREACHABLE_MESSAGES.test(current.message)) return true;
  }
  return false;
}

/** Maps what libraries throw onto the contract's codes; anything unknown is an internal error. */
function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (isDatabaseUnreachable(error)) {
    return new AppError("unavailable", "the database is unreachable, retry shortly", { retryAfterS: 5, cause: error });
  }
  const httpError = (typeof error === "object" && error !== null ? error : {}) as HttpLibraryError;
  switch (httpError.type) {
    case "entity.parse.failed":
      return new AppError("validation_failed", "body: malformed JSON", { details: [{ path: "body", message: "malformed JSON" }] });
    case "entity.too.large":
      return new AppError("payload_too_large", "body: larger than this server accepts");
    case "encoding.unsupported":
    case "charset.unsupported":
      return new AppError("unsupported_media_type", "body: unsupported encoding or charset");
    case "request.aborted":
    case "request.size.invalid":
      return new AppError("validation_failed", "body: incomplete request");
  }
  const status = httpError.status ?? httpError.statusCode;
  if (status && status >= 400 && status < 500 && httpError.expose) {
    return new AppError("validation_failed", error instanceof Error ? error.message : "bad request");
  }
  return new AppError("internal", "internal error", { cause: error });
}

export function errorBody(error: AppError): ErrorBody {
  return {
    error: {
      ...error.extra,
      code: error.code,
      message: error.message,
      ...(error.details ? { details: error.details } : {}),
      requestId: currentRequestId(),
    },
  };
}

/**
 * The only place errors become responses: handlers throw, this answers in the
 * one error shape. Nothing is handed on to Express's final handler, which
 * would print a raw stack and reset the connection.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, _req, res, _next) => {
    if (res.headersSent) {
      // A failure after the answer went out (express-session saving the session as the response ends): log it;
      // cut the connection only if the body is incomplete, since the client must not take it for whole.
      logger.warn({ err: error, responseComplete: res.writableEnded }, "error after the response was sent");
      if (!res.writableEnded) res.destroy();
      return;
    }
    const appError = toAppError(error);
    if (appError.status >= 500) logger.error({ err: appError.cause ?? appError }, "request failed");
    if (appError.retryAfterS !== undefined) res.set("Retry-After", String(appError.retryAfterS));
    res.status(appError.status).json(errorBody(appError));
  };
}

/** Unknown /api routes answer 404 in the error shape rather than Express's HTML page. */
export const notFoundHandler: RequestHandler = (req) => {
  throw new AppError("not_found", `no route for ${req.method} ${req.baseUrl}${req.path}`);
};
