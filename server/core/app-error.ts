import { ERROR_STATUS, type ErrorCode, type ErrorDetail } from "../../shared/errors.ts";

export interface AppErrorOptions {
  details?: ErrorDetail[];
  /** Seconds a client should wait before retrying (429, 503). */
  retryAfterS?: number;
  /** Extra fields the contract adds to the error object, e.g. `reason`. */
  extra?: Record<string, unknown>;
  cause?: unknown;
}

/** The single error type services throw; the error middleware turns it into the API's error shape. */
export class AppError extends Error {
  override name = "AppError";
  readonly status: number;
  readonly details: ErrorDetail[] | undefined;
  readonly retryAfterS: number | undefined;
  readonly extra: Record<string, unknown> | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.status = ERROR_STATUS[code];
    this.details = options.details;
    this.retryAfterS = options.retryAfterS;
    this.extra = options.extra;
  }

  static notFound(what = "resource"): AppError {
    return new AppError("not_found", `${what} not found`);
  }
}
