import type { DemoLogin } from "../infra/db/demo-seed.ts";
import type { MetricsJson } from "../infra/alert-signals.ts";
import type { InstanceStatus } from "../infra/instance-metrics.ts";

/** What the primary and its children say to each other over the cluster IPC channel. */
export type ChildMessage =
  | { type: "ready" }
  | { type: "boot-failed"; message: string }
  /** A web worker closed its listening socket and asks the primary to confirm it will hand it no more connections. */
  | { type: "stopped-accepting" }
  /** The background worker's job runner started and locks the jobs it takes under this name. */
  | { type: "job-runner"; lockedBy: string }
  /** A child's own metrics, the answer to `collect-metrics`. */
  | { type: "collected-metrics"; id: number; role: string; metrics: MetricsJson }
  /** A web worker asks for the instance's metrics (Prometheus text) or its status (alert signals), for a request. */
  | { type: "instance-metrics"; id: number; want: "text" | "status" }
  /** For every other child, unread by the primary: the cache's invalidations in local mode (peers.ts). */
  | { type: "broadcast"; payload: unknown };

export type ShutdownReason = "reload" | "stop";

export type PrimaryMessage =
  | { type: "shutdown"; reason: ShutdownReason }
  /** The answer to `stopped-accepting`: every connection the primary handed to this worker was sent before it. */
  | { type: "routing-stopped" }
  /** The answer to `job-runner`: the runners of background workers that died, whose locked jobs are to be released. */
  | { type: "dead-job-runners"; lockedBy: string[] }
  /** The primary gathers every child's metrics; each answers with `collected-metrics` and the same id. */
  | { type: "collect-metrics"; id: number }
  /** The answer to `instance-metrics`: what was asked for, or why there is none. */
  | { type: "instance-metrics"; id: number; text?: string; status?: InstanceStatus; error?: string }
  /** Another child's broadcast, as it sent it. */
  | { type: "broadcast"; payload: unknown };

/**
 * Dead job runners are remembered this long, by the primary and by the background worker that releases their jobs:
 * graphile-worker itself frees a job locked for 4 hours.
 */
export const DEAD_RUNNER_MEMORY_MS = 4 * 60 * 60 * 1_000;

const CHILD_MESSAGE_TYPES: ReadonlySet<unknown> = new Set<ChildMessage["type"]>([
  "ready",
  "boot-failed",
  "stopped-accepting",
  "job-runner",
  "collected-metrics",
  "instance-metrics",
  "broadcast",
]);
const PRIMARY_MESSAGE_TYPES: ReadonlySet<unknown> = new Set<PrimaryMessage["type"]>([
  "shutdown",
  "routing-stopped",
  "dead-job-runners",
  "collect-metrics",
  "instance-metrics",
  "broadcast",
]);

export function isChildMessage(value: unknown): value is ChildMessage {
  return typeof value === "object" && value !== null && "type" in value && CHILD_MESSAGE_TYPES.has(value.type);
}

export function isPrimaryMessage(value: unknown): value is PrimaryMessage {
  return typeof value === "object" && value !== null && "type" in value && PRIMARY_MESSAGE_TYPES.has(value.type);
}

/** Between the primary and the short-lived child that prepares the database (prepare.ts). */
export type PrepareRequest = { type: "prepare"; seedDemo: boolean };

export type PrepareReply = { type: "prepared"; demoLogin: DemoLogin | undefined } | { type: "boot-failed"; message: string };

export function isPrepareRequest(value: unknown): value is PrepareRequest {
  return typeof value === "object" && value !== null && "type" in value && value.type === "prepare";
}

export function isPrepareReply(value: unknown): value is PrepareReply {
  return typeof value === "object" && value !== null && "type" in value && (value.type === "prepared" || value.type === "boot-failed");
}
