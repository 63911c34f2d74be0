import http from "node:http";
import type { Express } from "express";
import type { CapacityPlan } from "../config/capacity.ts";

/** Longer than the idle timeout of common load balancers (60 s), so they, not we, close idle connections. */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;
/** Must exceed the keep-alive timeout, or Node may drop a request that arrives just as a connection idles out. */
export const HEADERS_TIMEOUT_MS = 66_000;
/** The longest a whole request may take before Node answers 408 and closes the socket. */
export const REQUEST_TIMEOUT_MS = 30_000;

export function createHttpServer(app: Express, plan: CapacityPlan): http.Server {
  const server = http.createServer(app);
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.maxConnections = plan.maxConnectionsPerWorker;
  return server;
}

export function listen(server: http.Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/**
 * Stops accepting, lets in-flight requests finish, and closes every connection
 * once idle. Responses sent while draining say `Connection: close`, so clients
 * open their next request elsewhere instead of racing a closing socket. After
 * the deadline, whatever is left is cut.
 */
export function drainHttpServer(server: http.Server, deadlineMs: number): Promise<void> {
  server.on("request", (_req: http.IncomingMessage, res: http.ServerResponse) => {
    if (!res.headersSent) res.setHeader("Connection", "close");
    res.on("finish", () => setImmediate(() => server.closeIdleConnections()));
  });
  return new Promise((resolve) => {
    const deadline = setTimeout(() => server.closeAllConnections(), deadlineMs);
    deadline.unref();
    server.close(() => {
      clearTimeout(deadline);
      resolve();
    });
    server.closeIdleConnections();
  });
}
