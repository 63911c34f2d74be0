/** `GET /api/ops/status`: each alert signal over the last five minutes with its state. */
export type SignalState = "ok" | "warn" | "critical";

export interface SignalReading {
  name: string;
  value: number;
  unit: string;
  /** The state is `warn` above `warn`, `critical` above `critical`. */
  threshold: { warn: number; critical: number };
  state: SignalState;
}

export interface InstanceStatus {
  signals: SignalReading[];
  /** Workers that answered, by role (web, worker). */
  workers: Record<string, number>;
  uptimeS: number;
}
