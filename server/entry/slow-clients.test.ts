import http from "node:http";
import net from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { getHealth, servingClusterForSuite, sleep, type ClusterProcess } from "../test/cluster-process.ts";

/**
 * Connections that send their headers one byte a second, more of them than
 * every web worker together accepts, and idle keep-alive connections: a new
 * visitor must still be served within about a second, and the slow ones must be
 * closed by their header deadline at the latest. Small limits keep it fast:
 * 2 web workers × 40 connections, headers within 6 s.
 */

const CONNECTIONS_PER_WORKER = 40;
const HEADERS_TIMEOUT_MS = 6_000;
const SLOW_CLIENTS = 3 * 2 * CONNECTIONS_PER_WORKER;
const IDLE_KEEP_ALIVE = 20;
const VISITORS = 5;
/**
 * Generous, and below the header deadline: a visitor waits at most for the next round of room making (slow connections
 * become closable a second after they are accepted); without it, it would wait for the header deadline.
 */
const VISITOR_BOUND_MS = 4_000;

interface SlowClient {
  socket: net.Socket;
  /** performance.now() when the server closed it, if it did. */
  closedAt: number | undefined;
  /** The server answered 408 (its header deadline) rather than closing it to make room. */
  timedOut: boolean;
}

/** Sends a request line and a first header, then one more byte a second: its headers never end. */
function slowClient(port: number): SlowClient {
  const socket = net.connect({ host: "127.0.0.1", port });
  const client: SlowClient = { socket, closedAt: undefined, timedOut: false };
  socket.on("error", () => undefined);
  socket.on("data", (chunk: Buffer) => (client.timedOut ||= chunk.toString("latin1").startsWith("HTTP/1.1 408")));
  socket.on("close", () => (client.closedAt ??= performance.now()));
  socket.once("connect", () => {
    socket.write(`GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Slow: `);
    const drip = setInterval(() => (socket.destroyed ? clearInterval(drip) : socket.write("a")), 1_000);
  });
  return client;
}

/** A keep-alive connection that made one request and now waits, idle. */
async function idleKeepAlive(port: number): Promise<net.Socket> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const outcome = await getHealth(port, { agent });
  if (outcome.kind !== "response") throw new Error(`keep-alive request failed: ${outcome.code}`);
  const [socket] = Object.values(agent.freeSockets).flat();
  if (!socket) throw new Error("the keep-alive connection was not kept");
  return socket;
}

describe("slow clients against small connection limits", () => {
  let cluster: ClusterProcess;
  servingClusterForSuite((started) => (cluster = started), {
    env: { MAX_CONNECTIONS_PER_WORKER: String(CONNECTIONS_PER_WORKER), HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS) },
  });
  const slow: SlowClient[] = [];
  afterAll(() => {
    for (const client of slow) client.socket.destroy();
  });

  it(`serves new visitors within about a second while ${SLOW_CLIENTS} connections dribble their headers, closes idle keep-alive connections to make room, and every slow one by its header deadline`, async () => {
    const idle = await Promise.all(Array.from({ length: IDLE_KEEP_ALIVE }, () => idleKeepAlive(cluster.port)));
    const idleClosed = idle.map((socket) => new Promise<void>((resolve) => socket.once("close", () => resolve())));
    const attackAt = performance.now();
    slow.push(...Array.from({ length: SLOW_CLIENTS }, () => slowClient(cluster.port)));
    // Past a second, the slow connections may be closed to make room.
    await sleep(1_500);

    const visitors = [];
    for (let index = 0; index < VISITORS; index += 1) {
      const outcome = await getHealth(cluster.port, { timeoutMs: 2 * VISITOR_BOUND_MS });
      visitors.push(outcome);
      if (outcome.kind !== "response") break;
    }
    const visitorMs = visitors.map((outcome) => Math.round(outcome.endedAt - outcome.startedAt));
    const closedBeforeVisitors = slow.filter((client) => client.closedAt !== undefined).length;

    await Promise.race([Promise.all(idleClosed), sleep(10_000)]);
    const idleLeft = idle.filter((socket) => !socket.destroyed).length;
    // A slow connection the primary could not place at once is accepted late, and its header deadline counts from then.
    const deadline = attackAt + 2 * HEADERS_TIMEOUT_MS + 3_000;
    while (slow.some((client) => client.closedAt === undefined) && performance.now() < deadline) await sleep(100);
    const lastClosedMs = Math.round(Math.max(...slow.map((client) => client.closedAt ?? Infinity)) - attackAt);
    console.info(
      `[slow-clients] ${SLOW_CLIENTS} slow connections, ${IDLE_KEEP_ALIVE} idle keep-alive, limit 2 × ${CONNECTIONS_PER_WORKER}: ` +
        `new visitors answered in ${visitorMs.join(", ")} ms; ${closedBeforeVisitors} slow ones closed to make room by then; ` +
        `${IDLE_KEEP_ALIVE - idleLeft} idle keep-alive closed; ${slow.filter((client) => client.timedOut).length} slow ones got 408 at the header deadline; ` +
        `the last slow one closed ${lastClosedMs} ms after the attack began`,
    );

    expect(visitors.map((outcome) => (outcome.kind === "response" ? outcome.status : outcome.code))).toEqual(Array(VISITORS).fill(200));
    expect(Math.max(...visitorMs)).toBeLessThan(VISITOR_BOUND_MS);
    expect(idleLeft).toBe(0);
    expect(slow.filter((client) => client.closedAt === undefined)).toHaveLength(0);
  }, 60_000);
});
