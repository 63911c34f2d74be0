import { AggregatorRegistry } from "prom-client";
import type { Logger } from "pino";
import { evaluateSignals, snapshotOf, type ProcessMetrics, type SignalReading, type SignalState, type Snapshot } from "./alert-signals.ts";
import type { InstanceStatus } from "../../shared/api/ops.ts";

/** Signals are judged over this window; snapshots are kept this often within it. */
export const SIGNAL_WINDOW_MS = 5 * 60_000;
export const SNAPSHOT_INTERVAL_MS = 15_000;

export type { InstanceStatus } from "../../shared/api/ops.ts";

/** The instance's metrics as a web worker serves them: from the primary under a cluster, its own otherwise. */
export interface MetricsSource {
  text(): Promise<string>;
  status(): Promise<InstanceStatus>;
}

/** Every process's metrics, as they are now. */
export type GatherMetrics = () => Promise<ProcessMetrics[]>;

/**
 * The metrics of a whole instance: the Prometheus text aggregated over its processes (prom-client's cluster
 * aggregator: counters and histograms summed, per-process gauges kept apart by their labels), and the alert signals
 * over the last five minutes, from a ring of snapshots. A signal that changes state is logged once.
 */
export class InstanceMetrics implements MetricsSource {
  readonly #ring: Snapshot[] = [];
  readonly #states = new Map<string, SignalState>();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly gather: GatherMetrics,
    private readonly logger: Logger,
  ) {}

  async text(): Promise<string> {
    const processes = await this.gather();
    return AggregatorRegistry.aggregate(processes.map((entry) => entry.metrics)).metrics();
  }

  async status(): Promise<InstanceStatus> {
    const processes = await this.gather();
    const current = snapshotOf(processes, Date.now());
    const signals = evaluateSignals(this.#window(current.at), current);
    this.#keep(current);
    this.#logChanges(signals);
    const workers: Record<string, number> = {};
    for (const { role } of processes) if (role !== "primary") workers[role] = (workers[role] ?? 0) + 1;
    return { signals, workers, uptimeS: Math.round(process.uptime()) };
  }

  /** Snapshots every SNAPSHOT_INTERVAL_MS, so that signals are judged (and changes logged) without anyone asking. */
  start(): void {
    this.#timer = setInterval(() => {
      this.status().catch((error: unknown) => this.logger.warn({ err: error }, "alert signals not evaluated"));
    }, SNAPSHOT_INTERVAL_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** The snapshots within the window before `now`, oldest first. */
  #window(now: number): Snapshot[] {
    while (this.#ring.length > 0 && this.#ring[0]!.at < now - SIGNAL_WINDOW_MS) this.#ring.shift();
    return [...this.#ring];
  }

  /** At most one snapshot per interval: statuses asked for often do not crowd the ring. */
  #keep(snapshot: Snapshot): void {
    const last = this.#ring.at(-1);
    if (!last || snapshot.at - last.at >= SNAPSHOT_INTERVAL_MS) this.#ring.push(snapshot);
  }

  #logChanges(signals: readonly SignalReading[]): void {
    for (const signal of signals) {
      const from = this.#states.get(signal.name) ?? "ok";
      this.#states.set(signal.name, signal.state);
      if (from === signal.state) continue;
      const line = { name: signal.name, from, to: signal.state, value: signal.value, unit: signal.unit };
      if (signal.state === "ok") this.logger.info(line, "alert signal changed");
      else this.logger.warn(line, "alert signal changed");
    }
  }
}
