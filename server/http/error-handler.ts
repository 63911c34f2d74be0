import type { ErrorRequestHandler, RequestHandler } from "express";
import type { Logger } from "pino";
import type { ErrorBody } from "../../shared/errors.ts";
import { AppError } from "../core/app-error.ts";
import { currentRequestId } from "../core/request-context.ts";
import { databaseUnavailable } from "../infra/db/breaker.ts";
import { isDatabaseUnreachable, isPoolExhausted } from "../infra/db/unreachable.ts";

/** Errors raised by body-parser and friends carry an HTTP status and a `type`. */
interface HttpLibraryError {
  status?: number;
  statusCode?: number;
  type?: string;
  expose?: boolean;
}

/** The first AppError of the cause chain: drizzle and the pool wrap what the breaker rejects with. */
function appErrorIn(error: unknown): AppError | undefined {
  for (let current = error; current instanceof Error; current = current.cause) if (current instanceof AppError) return current;
  return undefined;
}

/** Maps what libraries throw onto the contract's codes; anything unknown is an internal error. */
function toAppError(error: unknown): AppError {
  const appError = appErrorIn(error);
  if (appError) return appError;
  if (isDatabaseUnreachable(error)) return databaseUnavailable(error);
  if (isPoolExhausted(error)) {
    return new AppError("overloaded", "too many requests in progress, retry shortly", { retryAfterS: 1, cause: error });
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

/** The innermost error's message: the driver's words, never drizzle's, which quote the query's parameters. */
function rootCauseMessage(error: unknown): string | undefined {
  let message: string | undefined;
  for (let current = error; current instanceof Error; current = current.cause) message = current.message;
  return message;
}

/** A dependency's outage is expected and reported by the health check: one short line, no stack, per refused request. */
function logFailure(logger: Logger, appError: AppError): void {
  if (appError.status === 503) {
    logger.warn({ code: appError.code, cause: rootCauseMessage(appError.cause) }, "request failed");
  } else if (appError.status >= 500) {
    logger.error({ err: appError.cause ?? appError }, "request failed");
  }
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
    logFailure(logger, appError);
    if (appError.retryAfterS !== undefined) res.set("Retry-After", String(appError.retryAfterS));
    res.status(appError.status).json(errorBody(appError));
  };
}

/** Unknown /api routes answer 404 in the error shape rather than Express's HTML page. */
export const notFoundHandler: RequestHandler = (req) => {
  throw new AppError("not_found", `no route for ${req.method} ${req.baseUrl}${req.path}`);
};
