import { isPrimaryMessage, type ChildMessage } from "./messages.ts";
import type { Peers } from "../infra/cache-bus.ts";

/**
 * The other children of this machine's primary, reached through it: it hands a
 * broadcast to every other child, unread (supervisor.ts). A process not forked
 * by a primary (`--role=web` alone, a test's server) has no peers.
 */
export const clusterPeers: Peers = {
  async broadcast(payload) {
    if (!process.send || !process.connected) return;
    const message: ChildMessage = { type: "broadcast", payload };
    await new Promise<void>((resolve) => process.send!(message, () => resolve()));
  },
  onBroadcast(listener) {
    const onMessage = (message: unknown) => {
      if (isPrimaryMessage(message) && message.type === "broadcast") listener(message.payload);
    };
    process.on("message", onMessage);
    return () => void process.off("message", onMessage);
  },
};
