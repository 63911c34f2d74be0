import type { DemoLogin } from "../infra/db/demo-seed.ts";

/** What the primary and its children say to each other over the cluster IPC channel. */
export type ChildMessage =
  | { type: "ready" }
  | { type: "boot-failed"; message: string }
  /** A web worker closed its listening socket and asks the primary to confirm it will hand it no more connections. */
  | { type: "stopped-accepting" };

export type ShutdownReason = "reload" | "stop";

export type PrimaryMessage =
  | { type: "shutdown"; reason: ShutdownReason }
  /** The answer to `stopped-accepting`: every connection the primary handed to this worker was sent before it. */
  | { type: "routing-stopped" };

const CHILD_MESSAGE_TYPES: ReadonlySet<unknown> = new Set<ChildMessage["type"]>(["ready", "boot-failed", "stopped-accepting"]);
const PRIMARY_MESSAGE_TYPES: ReadonlySet<unknown> = new Set<PrimaryMessage["type"]>(["shutdown", "routing-stopped"]);

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
