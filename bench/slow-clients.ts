// `node --import tsx bench/slow-clients.ts [--reconnect]`: the default cluster (the bundle, tier defaults, one web
// worker per CPU) under 2,100 connections that send their headers one byte a second (and, with --reconnect, come back
// whenever the server closes them, as a slowloris does), while a new visitor arrives every second. Prints what
// visitors waited, and what became of the slow connections. Figures in docs/operations.md ("Slow clients").
import { randomBytes } from "node:crypto";
import http from "node:http";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { buildServer } from "../server/build.ts";
import { freePort } from "../server/infra/free-port.ts";
import { startProcess } from "./cluster.ts";
import { resolveBenchServices } from "./services.ts";

const SLOW_CLIENTS = 2_100;
const RECONNECT = process.argv.includes("--reconnect");
const DURATION_S = 40;
const VISITOR_TIMEOUT_MS = 90_000;
const ROOT = fileURLToPath(new URL("..", import.meta.url));

interface AttackStats {
  opened: number;
  answered408: number;
  closedSilently: number;
}

/** One slow client: a request line, then a header byte a second; with RECONNECT, it comes back when closed. */
function slowClient(port: number, stats: AttackStats, running: () => boolean): void {
  const socket = net.connect({ host: "127.0.0.1", port });
  let got408 = false;
  stats.opened += 1;
  socket.on("error", () => undefined);
  socket.on("data", (chunk: Buffer) => (got408 ||= chunk.toString("latin1").startsWith("HTTP/1.1 408")));
  socket.once("connect", () => {
    socket.write(`GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Slow: `);
    const drip = setInterval(() => (socket.destroyed ? clearInterval(drip) : socket.write("a")), 1_000);
  });
  socket.once("close", () => {
    if (!running()) return;
    if (got408) stats.answered408 += 1;
    else stats.closedSilently += 1;
    if (RECONNECT) slowClient(port, stats, running);
  });
}

interface Outcome {
  /** The HTTP status, or the error code. */
  result: number | string;
  waitedMs: number;
}

/** GET /api/health on a connection of its own, as a new visitor. */
function visit(port: number): Promise<Outcome> {
  const startedAt = performance.now();
  const waited = () => Math.round(performance.now() - startedAt);
  return new Promise((resolve) => {
    const request = http.get({ host: "127.0.0.1", port, path: "/api/health", agent: false }, (response) => {
      response.resume();
      response.on("end", () => resolve({ result: response.statusCode ?? 0, waitedMs: waited() }));
    });
    request.setTimeout(VISITOR_TIMEOUT_MS, () => request.destroy(Object.assign(new Error("timed out"), { code: "TIMEOUT" })));
    request.on("error", (error: NodeJS.ErrnoException) => resolve({ result: error.code ?? error.message, waitedMs: waited() }));
  });
}

const describeOutcome = (outcome: Outcome) => `${outcome.result} after ${outcome.waitedMs} ms`;

async function main(): Promise<void> {
  // A database of this run's own (DATABASE_URL, or a uniquely named one on the local Postgres, dropped at the end).
  const services = await resolveBenchServices();
  try {
    await attack(services.databaseUrl);
  } finally {
    await services.release();
  }
}

async function attack(databaseUrl: string | undefined): Promise<void> {
  if (!databaseUrl) throw new Error("needs DATABASE_URL or the local Postgres at 127.0.0.1:5432");
  await buildServer();
  const port = await freePort();
  const env = {
    PATH: process.env.PATH,
    DATABASE_URL: databaseUrl,
    PORT: String(port),
    NODE_ENV: "production",
    SESSION_SECRET: randomBytes(32).toString("hex"),
    TICKET_SIGNING_KEY: randomBytes(32).toString("hex"),
    LOG_LEVEL: "warn",
  };
  const product = await startProcess([process.execPath, "dist/server/entry/primary.js"], env, `http://127.0.0.1:${port}/api/health/live`, {
    cwd: ROOT,
  });
  const stats: AttackStats = { opened: 0, answered408: 0, closedSilently: 0 };
  let attacking = true;
  try {
    const before = await visit(port);
    console.log(`${SLOW_CLIENTS} slow clients${RECONNECT ? ", reconnecting" : ""}; before them, a visitor got ${describeOutcome(before)}`);
    for (let index = 0; index < SLOW_CLIENTS; index += 1) {
      slowClient(port, stats, () => attacking);
      // A few hundred connections at a time, as fast as the listen backlog takes them.
      if (index % 200 === 199) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const startedAt = performance.now();
    const visitors: Array<Promise<{ atS: number; outcome: Outcome }>> = [];
    for (let second = 1; second <= DURATION_S; second += 1) {
      await new Promise((resolve) => setTimeout(resolve, startedAt + second * 1_000 - performance.now()));
      visitors.push(visit(port).then((outcome) => ({ atS: second, outcome })));
      if (second % 10 === 0) console.log(`t=${second} s: slow connections closed by the server so far: ${JSON.stringify(stats)}`);
    }
    const results = await Promise.all(visitors);
    for (let from = 0; from < DURATION_S; from += 10) {
      const window = results.filter((result) => result.atS > from && result.atS <= from + 10).map((result) => result.outcome);
      const waited = window.map((outcome) => outcome.waitedMs).sort((a, b) => a - b);
      const failures = window.filter((outcome) => outcome.result !== 200).map(describeOutcome);
      console.log(
        `visitors arriving at t=${from + 1}..${from + 10} s: median ${Math.round(waited[Math.floor(waited.length / 2)] ?? 0)} ms, ` +
          `max ${Math.round(waited.at(-1) ?? 0)} ms, not 200: ${failures.length ? failures.join(", ") : "none"}`,
      );
    }
  } finally {
    attacking = false;
    await product.stop();
  }
}

await main();
process.exit(0);
