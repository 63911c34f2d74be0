import type { ErrorBody, ErrorDetail } from "../../../shared/errors.ts";

/** An answer of the API other than 2xx, or no answer at all (`code: "network"`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId?: string,
    /** Why, where the API says it (`sold_out`, `nonce_reused`, `door_code_expired`...). */
    readonly reason?: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export interface RequestOptions {
  method?: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  body?: unknown;
  signal?: AbortSignal;
  headers?: Record<string, string>;
  /** "text" for an answer that is not JSON (the Prometheus metrics). */
  as?: "json" | "text";
}

/**
 * Every call of the API goes through here: JSON in and out, the session cookie
 * sent (same origin), and every failure turned into an ApiError carrying the
 * API's message and request id, so that a page shows what went wrong.
 */
export async function api<T>(path: string, { method = "GET", body, signal, headers = {}, as = "json" }: RequestOptions = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`/api${path}`, {
      method,
      signal,
      credentials: "same-origin",
      // The query cache decides when to ask again; the browser's HTTP cache must not answer in its place (the public
      // profile is cacheable for a minute): it revalidates, a 304 when nothing changed.
      cache: "no-cache",
      headers: { accept: "application/json", ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new ApiError(0, "network", "no answer from the server: check the connection");
  }
  if (response.status === 204) return undefined as T;
  if (as === "text" && response.ok) return (await response.text()) as T;
  const payload = (await response.json().catch(() => undefined)) as unknown;
  if (response.ok) return payload as T;
  throw errorOf(response, payload);
}

function errorOf(response: Response, payload: unknown): ApiError {
  const error = (payload as Partial<ErrorBody> | undefined)?.error;
  const requestId = error?.requestId ?? response.headers.get("x-request-id") ?? undefined;
  if (!error) return new ApiError(response.status, "internal", `the server answered ${response.status}`, requestId);
  const reason = typeof error.reason === "string" ? error.reason : undefined;
  return new ApiError(response.status, error.code, error.message, requestId, reason, error.details ?? []);
}

/** `?a=1&b=x` from the defined values only. */
export function query(params: Record<string, string | number | undefined>): string {
  const defined = Object.entries(params).filter((entry): entry is [string, string | number] => entry[1] !== undefined && entry[1] !== "");
  return defined.length === 0 ? "" : `?${new URLSearchParams(defined.map(([key, value]) => [key, String(value)])).toString()}`;
}
