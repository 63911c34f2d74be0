/**
 * A WebSocket-to-TCP proxy for running the Neon serverless driver against a plain Postgres.
 *
 * `@neondatabase/serverless` (Pool/Client) speaks the Postgres wire protocol over a
 * WebSocket instead of TCP. Neon's cloud provides that WebSocket endpoint; locally
 * nothing does, so this small proxy stands in for Neon's wsproxy: each WebSocket
 * connection gets its own TCP socket to Postgres, and bytes are copied both ways
 * unchanged. Used by the test suite and the benches only, never in production.
 */
import net from "node:net";
import { WebSocketServer, type RawData, type WebSocket } from "ws";

export interface NeonWsProxyOptions {
  targetHost: string;
  targetPort: number;
}

export interface NeonWsProxy {
  port: number;
  /** Value for DB_NEON_WS_PROXY: the driver connects to `ws://${wsProxy}?address=host:port`. */
  wsProxy: string;
  close(): Promise<void>;
}

export async function startNeonWsProxy(options: NeonWsProxyOptions): Promise<NeonWsProxy> {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  const sockets = new Set<net.Socket>();
  // A failing listener or client must never take the test process down.
  server.on("error", () => {});
  // The `?address=` the driver sends is ignored on purpose: the proxy only ever
  // reaches its configured target, so it cannot be used as an open relay.
  server.on("connection", (ws) => {
    const tcp = net.connect(options.targetPort, options.targetHost);
    sockets.add(tcp);
    tcp.on("close", () => sockets.delete(tcp));
    bridge(ws, tcp);
  });
  const port = await listeningPort(server);
  return {
    port,
    wsProxy: `127.0.0.1:${port}/v1`,
    close: () => closeServer(server, sockets),
  };
}

/**
 * Copies bytes both ways and closes each side when the other ends or fails.
 * No backpressure handling: test and bench payloads are small.
 */
function bridge(ws: WebSocket, tcp: net.Socket): void {
  // Postgres messages are small and latency-bound; don't let Nagle hold them back.
  tcp.setNoDelay(true);
  ws.on("message", (data) => tcp.write(toBuffer(data)));
  tcp.on("data", (chunk) => ws.send(chunk, { binary: true }));
  // end() flushes what the client already sent (e.g. its Terminate message) before FIN.
  ws.on("close", () => tcp.end());
  ws.on("error", () => tcp.destroy());
  tcp.on("close", () => ws.close());
  tcp.on("error", () => ws.terminate());
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

async function listeningPort(server: WebSocketServer): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error(`not listening on TCP: ${address}`);
  return address.port;
}

async function closeServer(server: WebSocketServer, sockets: Set<net.Socket>): Promise<void> {
  for (const ws of server.clients) ws.terminate();
  for (const tcp of sockets) tcp.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
