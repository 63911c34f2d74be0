import http from "node:http";
import type { ErrorRequestHandler, RequestHandler } from "express";
import type { Logger } from "pino";
import type { ErrorBody, ErrorCode } from "../../shared/errors.ts";
import { AppError } from "../core/app-error.ts";
import { currentRequestId } from "../core/request-context.ts";
import { databaseUnavailable } from "../infra/db/breaker.ts";
import { isDatabaseUnreachable, isPoolExhausted } from "../infra/db/unreachable.ts";
import { isStripeUnavailable } from "../infra/stripe.ts";

/** Errors raised by Express, body-parser and friends carry an HTTP status, and body-parser's a `type`. */
interface HttpLibraryError {
  status?: unknown;
  statusCode?: unknown;
  type?: unknown;
  expose?: unknown;
}

/** The contract's code for each client-error status a library may raise; any other 4xx is a malformed request. */
const CODE_OF_STATUS: Partial<Record<number, ErrorCode>> = {
  400: "validation_failed",
  401: "unauthenticated",
  403: "forbidden",
  404: "not_found",
  409: "conflict",
  413: "payload_too_large",
  415: "unsupported_media_type",
  429: "rate_limited",
};

/** body-parser's errors, in words a client can act on. */
const BODY_ERRORS = new Map<string, () => AppError>([
  [
    "entity.parse.failed",
    () => new AppError("validation_failed", "body: malformed JSON", { details: [{ path: "body", message: "malformed JSON" }] }),
  ],
  ["entity.too.large", () => new AppError("payload_too_large", "body: larger than this server accepts")],
  ["encoding.unsupported", () => new AppError("unsupported_media_type", "body: unsupported encoding or charset")],
  ["charset.unsupported", () => new AppError("unsupported_media_type", "body: unsupported encoding or charset")],
  ["request.aborted", () => new AppError("validation_failed", "body: incomplete request")],
  ["request.size.invalid", () => new AppError("validation_failed", "body: incomplete request")],
]);

/** The first AppError of the cause chain: drizzle and the pool wrap what the breaker rejects with. */
function appErrorIn(error: unknown): AppError | undefined {
  for (let current = error; current instanceof Error; current = current.cause) if (current instanceof AppError) return current;
  return undefined;
}

/** A client error raised by a library (Express's router, a body parser): its own status, never a 500. */
function libraryClientError(error: unknown): AppError | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const { status, statusCode, type, expose } = error as HttpLibraryError;
  const bodyError = typeof type === "string" ? BODY_ERRORS.get(type) : undefined;
  if (bodyError) return bodyError();
  const httpStatus = typeof status === "number" ? status : statusCode;
  if (typeof httpStatus !== "number" || httpStatus < 400 || httpStatus >= 500) return undefined;
  return new AppError(CODE_OF_STATUS[httpStatus] ?? "validation_failed", clientMessage(error, httpStatus, expose));
}

/** What a client may read of it: the library's message only when marked safe to show, else the status's name. */
function clientMessage(error: object, status: number, expose: unknown): string {
  // Express's router fails to decode a path segment such as `%zz` with a URIError that is not marked safe to show.
  if (error instanceof URIError) return "path: malformed percent-encoding";
  // A body whose Content-Encoding (gzip, deflate, br) does not match its bytes: zlib's own words say nothing of where.
  if (typeof (error as { code?: unknown }).code === "string" && /^(Z_|ERR__)/.test((error as { code: string }).code)) {
    return "body: could not be decompressed as its Content-Encoding says";
  }
  if (expose === true && error instanceof Error) return error.message;
  return http.STATUS_CODES[status] ?? "bad request";
}

/** Maps what libraries throw onto the contract's codes; anything unknown is an internal error. */
function toAppError(error: unknown): AppError {
  const appError = appErrorIn(error);
  if (appError) return appError;
  if (isDatabaseUnreachable(error)) return databaseUnavailable(error);
  if (isStripeUnavailable(error)) {
    return new AppError("unavailable", "the payment provider did not answer; retry shortly", { retryAfterS: 5, cause: error });
  }
  if (isPoolExhausted(error)) {
    return new AppError("overloaded", "too many requests in progress, retry shortly", { retryAfterS: 1, cause: error });
  }
  return libraryClientError(error) ?? new AppError("internal", "internal error", { cause: error });
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
