/** Error codes of the API contract, with the HTTP status each one answers. */
export const ERROR_STATUS = {
  validation_failed: 400,
  unauthenticated: 401,
  invalid_credentials: 401,
  forbidden: 403,
  /** The community's plan does not allow it; the body names the limit and the plan that lifts it. */
  plan_limit: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  /** A scanned ticket code that does not admit to this event (the body also carries `result: "invalid"` and `reason`). */
  invalid_ticket: 422,
  /** A scanned door code that is forged, of another event, or too old (self check-in; `result: "invalid"` and `reason` too). */
  invalid_door_code: 422,
  rate_limited: 429,
  internal: 500,
  overloaded: 503,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorDetail {
  path: string;
  message: string;
}

/** The one error shape every 4xx and 5xx answers. */
export interface ErrorBody {
  error: {
    code: ErrorCode;
    message: string;
    details?: ErrorDetail[];
    requestId?: string;
    [extra: string]: unknown;
  };
}
