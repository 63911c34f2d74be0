import cluster, { type Worker } from "node:cluster";
import type { Logger } from "pino";
import { childRestarts } from "./cluster-metrics.ts";
import { DEAD_RUNNER_MEMORY_MS, isChildMessage, type PrimaryMessage, type ShutdownReason } from "./messages.ts";

/** Restart delays double from the first to the last, and fall back to the first after a child stays up this long. */
export const RESTART_DELAY_FIRST_MS = 100;
export const RESTART_DELAY_MAX_MS = 15_000;
export const HEALTHY_UPTIME_MS = 30_000;
/** A child that dies before it is ready this many times in a row will not start by retrying: stop everything. */
export const MAX_BOOT_FAILURES = 5;

export type ChildRole = "web" | "worker";

export function nextRestartDelay(current: number): number {
  return Math.min(current * 2, RESTART_DELAY_MAX_MS);
}

interface Slot {
  role: ChildRole;
  index: number;
  worker: Worker | undefined;
  restartDelayMs: number;
  bootFailures: number;
  lastFailure: string | undefined;
  healthyTimer: NodeJS.Timeout | undefined;
}

export interface SupervisorOptions {
  logger: Logger;
  webWorkers: number;
  entryFile(role: ChildRole): string;
  env: NodeJS.ProcessEnv;
  /** Called once when a child keeps failing at boot; the primary then stops everything and exits non-zero. */
  onGiveUp(reason: string): void;
}

/**
 * Keeps one background worker and N web workers alive: restarts a crashed child
 * after a growing delay, replaces web workers one at a time on reload, and
 * stops them all in order on shutdown.
 */
export class Supervisor {
  readonly #slots: Slot[];
  #stopping = false;
  #reloading: Promise<void> | undefined;
  readonly #retired = new Set<Worker>();
  /** Job runners of background workers that exited, with when: each new runner is told, and releases what they left locked. */
  readonly #deadJobRunners = new Map<string, number>();

  constructor(private readonly options: SupervisorOptions) {
    const slot = (role: ChildRole, index: number): Slot => ({
      role,
      index,
      worker: undefined,
      restartDelayMs: RESTART_DELAY_FIRST_MS,
      bootFailures: 0,
      lastFailure: undefined,
      healthyTimer: undefined,
    });
    this.#slots = [slot("worker", 0), ...Array.from({ length: options.webWorkers }, (_, index) => slot("web", index))];
  }

  start(): void {
    for (const slot of this.#slots) this.#fork(slot);
  }

  /** Replaces web workers one by one; a reload asked for while one runs is that one (a second would fork twice per slot). */
  reload(): Promise<void> {
    if (this.#reloading) {
      this.options.logger.warn("reload already in progress");
      return this.#reloading;
    }
    this.#reloading = this.#replaceWebWorkers().finally(() => (this.#reloading = undefined));
    return this.#reloading;
  }

  /** The next web worker is replaced only once the previous one's replacement listens. */
  async #replaceWebWorkers(): Promise<void> {
    this.options.logger.info("reloading web workers one at a time");
    for (const slot of this.#slots.filter((candidate) => candidate.role === "web")) {
      if (this.#stopping) return;
      const previous = slot.worker;
      const replacement = this.#fork(slot);
      const ready = await waitForReady(replacement);
      if (!ready) {
        this.options.logger.error({ slot: slot.index }, "reload stopped: the new web worker did not become ready");
        return;
      }
      if (previous) this.#retire(previous, "reload");
    }
    this.options.logger.info("reload complete");
  }

  /** Asks every child to shut down gracefully; kills what is still there after the deadline. */
  async stop(deadlineMs: number): Promise<void> {
    this.#stopping = true;
    const children = Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined);
    for (const slot of this.#slots) clearTimeout(slot.healthyTimer);
    for (const worker of children) send(worker, { type: "shutdown", reason: "stop" });
    const exits = children.map((worker) => exited(worker));
    const deadline = setTimeout(() => {
      for (const worker of children) if (!worker.isDead()) worker.process.kill("SIGKILL");
    }, deadlineMs);
    await Promise.all(exits);
    clearTimeout(deadline);
  }

  pids(): number[] {
    return this.#slots.flatMap((slot) => (slot.worker?.process.pid ? [slot.worker.process.pid] : []));
  }

  #fork(slot: Slot): Worker {
    cluster.setupPrimary({ exec: this.options.entryFile(slot.role) });
    const worker = cluster.fork(this.options.env);
    slot.worker = worker;
    let ready = false;
    const jobRunners: string[] = [];
    this.options.logger.info({ child: slot.role, slot: slot.index, childPid: worker.process.pid }, "fork");
    worker.on("message", (message: unknown) => {
      if (!isChildMessage(message)) return;
      if (message.type === "boot-failed") slot.lastFailure = message.message;
      // Node's cluster module has removed the worker from round-robin when it read the close of its server, before this.
      if (message.type === "stopped-accepting") send(worker, { type: "routing-stopped" });
      if (message.type === "ready") {
        ready = true;
        this.#onReady(slot, worker);
      }
      if (message.type === "broadcast") this.#broadcast(worker, message.payload);
      if (message.type === "job-runner") {
        jobRunners.push(message.lockedBy);
        send(worker, { type: "dead-job-runners", lockedBy: this.#recentlyDeadJobRunners() });
      }
    });
    worker.on("exit", (code, signal) => {
      for (const lockedBy of jobRunners) this.#deadJobRunners.set(lockedBy, Date.now());
      this.#onExit(slot, worker, ready, code, signal);
    });
    // Node's own messages to a child that just died (a connection handed to it, say) fail with EPIPE; unheard, the
    // error would end the primary. The child's exit follows and is handled above.
    worker.on("error", (error: Error) =>
      this.options.logger.warn({ child: slot.role, childPid: worker.process.pid, err: error }, "child unreachable"),
    );
    return worker;
  }

  /** To every other child alive, retiring ones included (they serve until drained); the payload stays opaque here. */
  #broadcast(sender: Worker, payload: unknown): void {
    for (const worker of Object.values(cluster.workers ?? {})) {
      if (worker && worker !== sender) send(worker, { type: "broadcast", payload });
    }
  }

  /** Older ones need no release of ours: graphile-worker frees their jobs by itself by now. */
  #recentlyDeadJobRunners(): string[] {
    const forgetBefore = Date.now() - DEAD_RUNNER_MEMORY_MS;
    for (const [lockedBy, diedAt] of this.#deadJobRunners) if (diedAt < forgetBefore) this.#deadJobRunners.delete(lockedBy);
    return [...this.#deadJobRunners.keys()];
  }

  #onReady(slot: Slot, worker: Worker): void {
    this.options.logger.info({ child: slot.role, slot: slot.index, childPid: worker.process.pid }, "child ready");
    slot.bootFailures = 0;
    slot.lastFailure = undefined;
    clearTimeout(slot.healthyTimer);
    slot.healthyTimer = setTimeout(() => {
      slot.restartDelayMs = RESTART_DELAY_FIRST_MS;
    }, HEALTHY_UPTIME_MS);
    slot.healthyTimer.unref();
  }

  #onExit(slot: Slot, worker: Worker, wasReady: boolean, code: number | null, signal: string | null): void {
    const retired = this.#retired.delete(worker);
    this.options.logger.info({ child: slot.role, slot: slot.index, childPid: worker.process.pid, code, signal }, "child exit");
    if (this.#stopping || retired || slot.worker !== worker) return;
    clearTimeout(slot.healthyTimer);
    if (!wasReady) slot.bootFailures += 1;
    if (slot.bootFailures >= MAX_BOOT_FAILURES) {
      const cause = slot.lastFailure ?? `exit code ${code ?? "none"}, signal ${signal ?? "none"}`;
      this.options.onGiveUp(`the ${slot.role} worker failed ${slot.bootFailures} times in a row before it was ready; last cause: ${cause}`);
      return;
    }
    const delayMs = slot.restartDelayMs;
    slot.restartDelayMs = nextRestartDelay(delayMs);
    childRestarts.inc({ role: slot.role });
    this.options.logger.warn(
      { child: slot.role, slot: slot.index, delayMs, bootFailures: slot.bootFailures },
      "restarting child after delay",
    );
    setTimeout(() => {
      if (!this.#stopping) this.#fork(slot);
    }, delayMs);
  }

  #retire(worker: Worker, reason: ShutdownReason): void {
    this.#retired.add(worker);
    send(worker, { type: "shutdown", reason });
  }
}

/**
 * A child may die between the check and the write; the write then fails (EPIPE) without throwing, and the child's
 * exit is handled where it always is. A child no longer connected stops by itself.
 */
function send(worker: Worker, message: PrimaryMessage): void {
  if (!worker.isConnected()) return;
  worker.send(message, undefined, () => undefined);
}

function exited(worker: Worker): Promise<void> {
  return worker.isDead() ? Promise.resolve() : new Promise((resolve) => worker.once("exit", () => resolve()));
}

const READY_TIMEOUT_MS = 60_000;

function waitForReady(worker: Worker): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish(false), READY_TIMEOUT_MS);
    const onMessage = (message: unknown) => {
      if (isChildMessage(message) && message.type === "ready") finish(true);
    };
    const onExit = () => finish(false);
    function finish(ready: boolean) {
      clearTimeout(timer);
      worker.off("message", onMessage);
      worker.off("exit", onExit);
      resolve(ready);
    }
    worker.on("message", onMessage);
    worker.on("exit", onExit);
  });
}
