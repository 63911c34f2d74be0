import cluster, { type Worker } from "node:cluster";
import { collectDefaultMetrics, Counter, Registry } from "prom-client";
import type { Logger } from "pino";
import type { ProcessMetrics } from "../infra/alert-signals.ts";
import { InstanceMetrics } from "../infra/instance-metrics.ts";
import { isChildMessage, type ChildMessage, type PrimaryMessage } from "./messages.ts";

/**
 * The primary's side of the metrics: it gathers every child's metrics over the cluster IPC channel, adds its own
 * (restarts), and answers the web worker that serves `GET /api/metrics` or `GET /api/ops/status`. Children that do
 * not answer in time (starting, dying) are left out of that answer.
 */

const primaryRegistry = new Registry();

export const childRestarts = new Counter({
  name: "child_restarts_total",
  help: "Children the primary restarted after they exited unasked, by role",
  labelNames: ["role"] as const,
  registers: [primaryRegistry],
});

const COLLECT_TIMEOUT_MS = 1_500;
let nextId = 0;

function send(worker: Worker, message: PrimaryMessage): void {
  if (worker.isConnected()) worker.send(message, undefined, () => undefined);
}

function gatherFromChildren(): Promise<ProcessMetrics[]> {
  const id = nextId++;
  const children = Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker?.isConnected() === true);
  return new Promise((resolve) => {
    const answers: ProcessMetrics[] = [];
    const finish = () => {
      clearTimeout(timer);
      cluster.off("message", onMessage);
      resolve(answers);
    };
    const onMessage = (worker: Worker, message: unknown) => {
      if (!isChildMessage(message) || message.type !== "collected-metrics" || message.id !== id) return;
      answers.push({ role: message.role, pid: worker.process.pid ?? 0, metrics: message.metrics });
      if (answers.length === children.length) finish();
    };
    const timer = setTimeout(finish, COLLECT_TIMEOUT_MS);
    cluster.on("message", onMessage);
    for (const worker of children) send(worker, { type: "collect-metrics", id });
    if (children.length === 0) finish();
  });
}

async function gatherInstance(): Promise<ProcessMetrics[]> {
  const [children, own] = await Promise.all([gatherFromChildren(), primaryRegistry.getMetricsAsJSON()]);
  return [...children, { role: "primary", pid: process.pid, metrics: own }];
}

async function answer(instance: InstanceMetrics, request: Extract<ChildMessage, { type: "instance-metrics" }>) {
  try {
    return request.want === "text" ? { text: await instance.text() } : { status: await instance.status() };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/** Starts the snapshots of the alert signals and answers the web workers' requests for the instance's metrics. */
export function serveInstanceMetrics(logger: Logger): void {
  collectDefaultMetrics({ register: primaryRegistry, labels: { role: "primary", pid: String(process.pid) } });
  const instance = new InstanceMetrics(gatherInstance, logger);
  instance.start();
  cluster.on("message", (worker: Worker, message: unknown) => {
    if (!isChildMessage(message) || message.type !== "instance-metrics") return;
    void answer(instance, message).then((result) => send(worker, { type: "instance-metrics", id: message.id, ...result }));
  });
}
