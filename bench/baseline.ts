// Bare Express 5 hello-world cluster: the "best case" this machine can do with the
// same process layout as the product, so product numbers can be read as ratios.
//
//   PORT=3000 node --import tsx bench/baseline.ts [workers]   (or BENCH_WORKERS=n)
//
// Prints nothing; readiness is signalled by GET /api/health/live answering 200.
import cluster, { type Worker } from "node:cluster";
import { availableParallelism } from "node:os";
import express, { type Request, type Response } from "express";

type ReadyMessage = { type: "all-workers-listening" };

function workerCount(): number {
  const raw = process.argv[2] ?? process.env.BENCH_WORKERS;
  const n = raw === undefined ? availableParallelism() : Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`invalid worker count: ${raw}`);
  return n;
}

function runPrimary(): void {
  const total = workerCount();
  let listening = 0;
  let exited = 0;
  let shuttingDown = false;
  const workers: Worker[] = Array.from({ length: total }, () => cluster.fork());

  // Report ready only once every worker accepts connections; otherwise the first
  // seconds of a run would be served by fewer workers than the product gets.
  cluster.on("listening", () => {
    if (++listening !== total) return;
    const message: ReadyMessage = { type: "all-workers-listening" };
    for (const worker of workers) worker.send(message);
  });

  // A dead worker means the baseline is no longer comparable: fail loudly
  // instead of respawning.
  cluster.on("exit", (worker, code, signal) => {
    if (!shuttingDown) {
      console.error(`baseline worker ${worker.process.pid} died (code ${code}, signal ${signal})`);
      process.exitCode = 1;
      shutdown();
    }
    // Counted by hand: cluster.workers drops an entry only after both 'exit' and 'disconnect'.
    if (++exited === total) process.exit();
  });

  // The harness signals the whole process group, but forward anyway so a plain
  // `kill <primary pid>` also stops the workers.
  const shutdown = (): void => {
    shuttingDown = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGTERM");
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
}

function runWorker(): void {
  let allListening = false;
  process.on("message", (message: ReadyMessage) => {
    if (message.type === "all-workers-listening") allListening = true;
  });

  const app = express();
  app.disable("x-powered-by");
  const health = (_req: Request, res: Response): void => {
    if (allListening) res.json({ status: "ok" });
    else res.status(503).json({ status: "starting" });
  };
  app.get("/api/health/live", health);
  app.get("/api/health", health);

  const server = app.listen(Number(process.env.PORT ?? 3000));
  let closing = false;
  const shutdown = (): void => {
    if (closing) return; // SIGTERM can arrive twice (group signal + primary forwarding)
    closing = true;
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    // Load generators may hold busy keep-alive sockets; don't let them block exit.
    setTimeout(() => process.exit(0), 2_000).unref();
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
  // Primary gone (e.g. SIGKILLed): don't linger as an orphan holding the port.
  process.on("disconnect", shutdown);
}

if (cluster.isPrimary) runPrimary();
else runWorker();
