import { AsyncLocalStorage } from "node:async_hooks";

/** What every log line of one request carries, without passing it through every call. */
export interface RequestContext {
  requestId: string;
  userId?: string | undefined;
}

export const requestContext = new AsyncLocalStorage<RequestContext>();

export function currentRequestId(): string | undefined {
  return requestContext.getStore()?.requestId;
}
