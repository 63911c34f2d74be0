/**
 * Requests sent one after another through an outage, each recorded with its
 * timing and answer, so a test can say what every caller saw: which status and
 * error code, how long it waited, and whether its connection was cut instead.
 */

export interface Outcome {
  label: string;
  /** performance.now() when the request was sent and when its answer (or failure) was complete. */
  startedAt: number;
  endedAt: number;
  /** Undefined when no HTTP answer came (connection reset or refused). */
  status: number | undefined;
  /** `error.code` of an answer in the error shape. */
  code: string | undefined;
  retryAfter: string | null;
  /** Why no answer came. */
  failure: string | undefined;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function timedRequest(label: string, send: () => Promise<Response>): Promise<Outcome> {
  const startedAt = performance.now();
  try {
    const response = await send();
    const body = (await response.json().catch(() => undefined)) as { error?: { code?: string } } | undefined;
    const answer = { status: response.status, code: body?.error?.code, retryAfter: response.headers.get("retry-after") };
    return { label, startedAt, endedAt: performance.now(), ...answer, failure: undefined };
  } catch (error) {
    const failure =
      error instanceof Error ? `${error.message} (${String((error.cause as { code?: unknown } | undefined)?.code)})` : String(error);
    return { label, startedAt, endedAt: performance.now(), status: undefined, code: undefined, retryAfter: null, failure };
  }
}

/** One caller sending the same kind of request again and again, a short pause between answers, until stopped. */
export class TrafficLoop {
  readonly outcomes: Outcome[] = [];
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(
    readonly label: string,
    private readonly send: () => Promise<Response>,
    private readonly pauseMs = 50,
  ) {}

  start(): this {
    this.#running = this.#loop();
    return this;
  }

  /** Resolves once the request in flight, if any, has its outcome. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
  }

  async #loop(): Promise<void> {
    while (!this.#stopped) {
      this.outcomes.push(await timedRequest(this.label, this.send));
      await sleep(this.pauseMs);
    }
  }
}

/** Outcomes that overlap [from, to]: sent before `to` and complete after `from`. */
export function overlapping(outcomes: readonly Outcome[], from: number, to: number): Outcome[] {
  return outcomes.filter((outcome) => outcome.startedAt < to && outcome.endedAt > from);
}

/** How long a request waited counting from `since` (or from when it was sent, if later). */
export const waitedSince = (outcome: Outcome, since: number) => outcome.endedAt - Math.max(outcome.startedAt, since);

export const describeOutcome = (outcome: Outcome) =>
  `${outcome.label}: ${outcome.status ?? outcome.failure} ${outcome.code ?? ""} after ${Math.round(outcome.endedAt - outcome.startedAt)} ms`;
