/** What the primary and its children say to each other over the cluster IPC channel. */
export type ChildMessage = { type: "ready" } | { type: "boot-failed"; message: string };

export type PrimaryMessage = { type: "shutdown"; reason: "reload" | "stop" };

export function isChildMessage(value: unknown): value is ChildMessage {
  return typeof value === "object" && value !== null && "type" in value && (value.type === "ready" || value.type === "boot-failed");
}

export function isPrimaryMessage(value: unknown): value is PrimaryMessage {
  return typeof value === "object" && value !== null && "type" in value && value.type === "shutdown";
}
