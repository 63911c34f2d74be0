import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";
import type { ServerResponse } from "node:http";

/** Why a request is refused: the label of `shed_requests_total`. */
export type ShedReason = "in_flight" | "event_loop_delay";

export interface LoadLimits {
  /** Requests of this process in progress at once; one more is refused. 0: no limit. */
  maxInFlight: number;
  /** Event-loop delay (p90 of a window, in ms) above which requests are refused. 0: no limit. */
  maxEventLoopDelayMs: number;
}

/**
 * The delay is judged per window of this length: long enough to hold about 50 samples, short enough that shedding
 * starts, and stops, within half a second of the loop's state changing.
 */
export const LOAD_WINDOW_MS = 500;
/** A window's delay: all but its largest tenth of samples are below it. */
const DELAY_PERCENTILE = 90;
/** The histogram's sampling timer: each sample is the time between two of its ticks, this interval included. */
const SAMPLE_RESOLUTION_MS = 10;
/**
 * Hysteresis: once the delay went above its limit, requests are refused until a window stays below this share of it.
 * Shedding makes the loop idle at once, so a single threshold would let the next window's traffic in, overload the loop
 * again, and flap every other window.
 */
const RECOVERY_SHARE = 0.5;

/**
 * The load of this process, read by the load-shedding middleware (and by metrics): requests in flight, counted exactly,
 * and the event loop's delay, measured by Node's own sampler (`monitorEventLoopDelay`, a libuv timer every 10 ms that
 * records how late it runs) rather than a JavaScript interval probe, whose single sample per window would miss most
 * stalls. A window's p90 ignores a lone stall (a garbage collection, the process waiting a moment for a CPU) among its
 * samples, but not a loop that stays busy: its p99, the largest of about 50 samples, made a single 250 ms stall refuse
 * the next second's requests of a healthy worker.
 */
export class LoadMonitor {
  #inFlight = 0;
  #eventLoopDelayMs = 0;
  #loopOverloaded = false;
  #windowStartedAt = performance.now();
  readonly #histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: SAMPLE_RESOLUTION_MS });
  readonly #timer: NodeJS.Timeout;

  constructor(private readonly limits: LoadLimits) {
    this.#histogram.enable();
    this.#timer = setInterval(() => this.#closeWindow(), LOAD_WINDOW_MS).unref();
  }

  /** Requests received and not yet answered (or abandoned by their client). */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** The event loop's delay over the last window, in ms (p90). */
  get eventLoopDelayMs(): number {
    return this.#eventLoopDelayMs;
  }

  /** Counts a request as in flight until its response closes: sent in full or cut, `close` comes once either way. */
  track(res: ServerResponse): void {
    this.#inFlight += 1;
    res.once("close", () => (this.#inFlight -= 1));
  }

  /**
   * Why a new request should be refused now, if it should. In-flight requests are an exact count, not a noisy sample:
   * a plain cap (like a semaphore's) admits exactly up to the limit and needs no hysteresis.
   */
  refusal(): ShedReason | undefined {
    if (this.#loopOverloaded) return "event_loop_delay";
    if (this.limits.maxInFlight > 0 && this.#inFlight >= this.limits.maxInFlight) return "in_flight";
    return undefined;
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#histogram.disable();
  }

  #closeWindow(): void {
    const now = performance.now();
    // A loop blocked for the whole window records no sample at all; this timer's own lateness then tells (and only
    // then: a lone stall makes this timer late as well, where the samples show it for what it is).
    const delayMs =
      this.#histogram.count > 0
        ? this.#histogram.percentile(DELAY_PERCENTILE) / 1e6 - SAMPLE_RESOLUTION_MS
        : now - this.#windowStartedAt - LOAD_WINDOW_MS;
    this.#histogram.reset();
    this.#windowStartedAt = now;
    this.#eventLoopDelayMs = Math.max(0, Math.round(delayMs));
    const limit = this.limits.maxEventLoopDelayMs;
    if (limit === 0) return;
    this.#loopOverloaded = this.#loopOverloaded ? this.#eventLoopDelayMs >= limit * RECOVERY_SHARE : this.#eventLoopDelayMs > limit;
  }
}
