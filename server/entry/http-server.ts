import http from "node:http";
import net from "node:net";
import type { Express } from "express";
import type { Logger } from "pino";
import type { AppEnv } from "../config/env.ts";

/** The longest a whole request may take before Node answers 408 and closes the socket. */
export const REQUEST_TIMEOUT_MS = 30_000;
/**
 * How often Node checks the header and request deadlines. Node's default (30 s) lets a connection outlive its header
 * deadline by as much; each check only walks the connections with a request in progress.
 */
const DEADLINE_CHECK_INTERVAL_MS = 1_000;

export type HttpServerConfig = Pick<AppEnv, "plan" | "http">;

/**
 * The HTTP server of a web worker. Headers must arrive within HTTP_HEADERS_TIMEOUT_MS (counted from the connection for
 * its first request, from the request's first byte for the next ones on a keep-alive connection; an idle keep-alive
 * connection is not concerned), else Node answers 408 and closes it. Idle keep-alive connections close after
 * HTTP_KEEP_ALIVE_TIMEOUT_MS of silence, independently: in Node 18 and later the header deadline need not exceed it.
 */
export function createHttpServer(app: Express, { plan, http: limits }: HttpServerConfig, logger?: Logger): http.Server {
  const server = http.createServer(
    {
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: REQUEST_TIMEOUT_MS,
      connectionsCheckingInterval: DEADLINE_CHECK_INTERVAL_MS,
    },
    app,
  );
  server.maxConnections = plan.maxConnectionsPerWorker;
  makeRoomNearTheLimit(server, plan.maxConnectionsPerWorker, logger);
  return server;
}

/** From this share of the connection limit on, room is made before the limit turns connections away. */
const HIGH_WATER_SHARE = 0.9;
/** Honest clients send their request as soon as they connect: one still silent after this may be closed to make room. */
export const SLOW_FIRST_REQUEST_MS = 1_000;
/** Near the limit, room is also made this often: connections refused meanwhile never reach the worker to trigger it. */
const MAKE_ROOM_INTERVAL_MS = 250;
const EVICTION_LOG_INTERVAL_MS = 10_000;

/**
 * At the limit, a web worker refuses connections, and in a cluster the primary keeps handing them from one full worker
 * to the next: connections that send their headers one byte at a time could hold every slot until their header
 * deadline and lock new visitors out. Near the limit, each new connection, and a check every 250 ms, therefore close
 * first the idle keep-alive connections, then, oldest first, connections whose first request has still not arrived
 * after a second.
 */
function makeRoomNearTheLimit(server: http.Server, maxConnections: number, logger: Logger | undefined): void {
  const room = new ConnectionRoom(server, Math.max(1, Math.floor(maxConnections * HIGH_WATER_SHARE)), logger);
  server.on("connection", (socket: net.Socket) => room.accepted(socket));
  server.on("request", (request: http.IncomingMessage) => room.heardFrom(request.socket));
  const sweep = setInterval(() => room.makeRoomIfNeeded(), MAKE_ROOM_INTERVAL_MS).unref();
  server.once("close", () => clearInterval(sweep));
}

class ConnectionRoom {
  readonly #open = new Set<net.Socket>();
  /** Accept time of connections whose first request has not arrived, in accept order (a Map keeps insertion order). */
  readonly #silent = new Map<net.Socket, number>();
  readonly #evicted = { idle: 0, silent: 0, loggedAt: 0 };

  constructor(
    private readonly server: http.Server,
    private readonly highWater: number,
    private readonly logger: Logger | undefined,
  ) {}

  accepted(socket: net.Socket): void {
    this.#open.add(socket);
    this.#silent.set(socket, performance.now());
    socket.once("close", () => {
      this.#open.delete(socket);
      this.#silent.delete(socket);
    });
    this.makeRoomIfNeeded();
  }

  heardFrom(socket: net.Socket): void {
    this.#silent.delete(socket);
  }

  makeRoomIfNeeded(): void {
    // Destroyed sockets stay in the set until their close event: count only when the set says it may be needed.
    if (this.#open.size < this.highWater) return;
    const before = this.#liveCount();
    this.server.closeIdleConnections();
    const live = this.#liveCount();
    this.#evicted.idle += before - live;
    this.#evicted.silent += this.#closeSilent(live - this.highWater + 1);
    this.#logEvictions();
  }

  /** Closes up to `count` connections silent for more than a second, oldest first; returns how many it closed. */
  #closeSilent(count: number): number {
    const silentSince = performance.now() - SLOW_FIRST_REQUEST_MS;
    let closed = 0;
    for (const [socket, acceptedAt] of this.#silent) {
      if (closed >= count || acceptedAt > silentSince) break;
      socket.destroy();
      this.#silent.delete(socket);
      closed += 1;
    }
    return closed;
  }

  #liveCount(): number {
    let live = 0;
    for (const socket of this.#open) if (!socket.destroyed) live += 1;
    return live;
  }

  /** One line every 10 s at most: under a flood, a line per connection would flood the log too. */
  #logEvictions(): void {
    const { idle, silent, loggedAt } = this.#evicted;
    if (!this.logger || idle + silent === 0 || Date.now() - loggedAt < EVICTION_LOG_INTERVAL_MS) return;
    this.logger.warn({ idle, silent, highWater: this.highWater }, "connections closed to make room");
    Object.assign(this.#evicted, { idle: 0, silent: 0, loggedAt: Date.now() });
  }
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

export interface DrainOptions {
  /** In-flight requests get this long; whatever is left then is cut. */
  deadlineMs: number;
  /**
   * Whether connections idle when the drain begins may be closed at once. Closing an idle keep-alive connection races
   * its client's next request, which may already be on its way (the client then sees a reset): only when nobody takes
   * over this server's clients (a stop without a drain delay, in development) is that race worth a faster stop.
   */
  closeIdleAtOnce: boolean;
}

/**
 * Stops accepting, lets in-flight requests finish, and lets every connection
 * end without ever closing one under a request. Every answer sent while
 * draining says `Connection: close`, so Node closes its connection once the
 * answer is out and the client opens its next one elsewhere; a keep-alive
 * connection that was idle when the drain began is left to its client, whose
 * next request gets that answer too (or who closes it). After the deadline,
 * whatever is left is cut: requests still running, and keep-alive connections
 * their clients kept idle all along.
 */
export function drainHttpServer(server: http.Server, { deadlineMs, closeIdleAtOnce }: DrainOptions): Promise<void> {
  // Before the application's listener: a route that answers at once would otherwise have sent its headers, keep-alive
  // included, and its client would send the next request on a connection about to be closed.
  server.prependListener("request", (_req: http.IncomingMessage, res: http.ServerResponse) => res.setHeader("Connection", "close"));
  return new Promise((resolve) => {
    const deadline = setTimeout(() => server.closeAllConnections(), deadlineMs);
    deadline.unref();
    if (closeIdleAtOnce) server.closeIdleConnections();
    // Not http.Server#close: since Node 19 it also destroys at once every connection idle at this instant, among them
    // one just accepted whose request is not read yet and a keep-alive one whose next request is already on its way.
    net.Server.prototype.close.call(server, () => {
      clearTimeout(deadline);
      resolve();
    });
  });
}
