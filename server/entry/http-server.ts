import http from "node:http";
import net from "node:net";
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

/** Draining closes idle connections only after this: by then every busy keep-alive client has had a `Connection: close` answer. */
export const DRAIN_IDLE_GRACE_MS = 250;
const DRAIN_IDLE_SWEEP_MS = 100;

/**
 * Stops accepting, lets in-flight requests finish, and closes every connection
 * once idle. Responses sent while draining say `Connection: close`, so clients
 * open their next request elsewhere instead of racing a closing socket. After
 * the deadline, whatever is left is cut.
 */
export function drainHttpServer(server: http.Server, deadlineMs: number): Promise<void> {
  server.on("request", (_req: http.IncomingMessage, res: http.ServerResponse) => {
    if (!res.headersSent) res.setHeader("Connection", "close");
  });
  return new Promise((resolve) => {
    const deadline = setTimeout(() => server.closeAllConnections(), deadlineMs);
    deadline.unref();
    let sweep: NodeJS.Timeout | undefined;
    const grace = setTimeout(
      () => {
        server.closeIdleConnections();
        // Connections whose request was in flight when the drain began go idle later.
        sweep = setInterval(() => server.closeIdleConnections(), DRAIN_IDLE_SWEEP_MS);
      },
      Math.min(DRAIN_IDLE_GRACE_MS, deadlineMs),
    );
    // Not http.Server#close: since Node 19 it also destroys at once every connection idle at this instant, among them
    // one just accepted whose request is not read yet and a keep-alive one whose next request is already on its way.
    net.Server.prototype.close.call(server, () => {
      clearTimeout(deadline);
      clearTimeout(grace);
      clearInterval(sweep);
      resolve();
    });
  });
}
