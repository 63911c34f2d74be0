import CircuitBreaker from "opossum";
import type pg from "pg";
import type { Logger } from "pino";
import { AppError } from "../../core/app-error.ts";
import { requestContext } from "../../core/request-context.ts";
import { withDeadline } from "../deadline.ts";
import type { DbPool } from "./types.ts";
import { isDatabaseUnreachable } from "./unreachable.ts";
import { releasedOnce } from "./checkout.ts";

export type BreakerState = "closed" | "open" | "halfOpen";

export interface DatabaseCheck {
  status: "up" | "down";
  latencyMs?: number;
  error?: string;
}

/** The database is checked this often, and called down when a check gets no answer within the timeout. */
const CHECK_INTERVAL_MS = 500;
const CHECK_TIMEOUT_MS = 1_000;
/**
 * Checks in a row without an answer that open the breaker. One is not enough: a process starved of CPU for a second (a
 * machine shared with others, a burst of work) sees its check late although the database answered; a dead database
 * fails the next one too, half a second later.
 */
const FAILED_CHECKS_TO_OPEN = 2;
/** An open breaker lets a check through this long after opening; its answer closes the breaker. */
const TRIAL_AFTER_MS = 1_000;
/** Failed connection attempts of requests that open the breaker without waiting for a check (if most attempts fail). */
const REQUEST_FAILURES_TO_OPEN = 5;
/** What callers refused by an open breaker are told: about when traffic may be back. */
const DATABASE_RETRY_AFTER_S = Math.ceil((TRIAL_AFTER_MS + CHECK_TIMEOUT_MS) / 1_000);

type Operation = () => Promise<unknown>;
type ConnectCallback = (error: Error | undefined, client: pg.PoolClient | undefined, done: pg.PoolClient["release"]) => void;

/** A check that got no answer, as the breaker's half-open trial sees it: a failure, whatever its cause. */
class CheckFailed extends Error {
  override name = "CheckFailed";
}

/** The answer to a caller that needs the database while it is out of reach. */
export function databaseUnavailable(cause?: unknown): AppError {
  return new AppError("unavailable", "the database is unreachable, retry shortly", { retryAfterS: DATABASE_RETRY_AFTER_S, cause });
}

/**
 * A circuit breaker (opossum) in front of one pool. Checks run every
 * CHECK_INTERVAL_MS; one without an answer within CHECK_TIMEOUT_MS opens the
 * breaker, and so do connection failures seen by requests. While it is open,
 * taking a connection fails at once with 503 `unavailable`; when it opens,
 * every caller still waiting for a connection is answered at once and every
 * open connection is destroyed, so that a query stuck on a silent network fails
 * now instead of at its deadline and no connection in an unknown state goes
 * back to the pool. TRIAL_AFTER_MS later a check is let through; its answer
 * closes the breaker.
 *
 * Checks take a connection from the pool, like requests. When the pool is busy
 * the check may wait for one, but any answer the database gives meanwhile (a
 * connection coming back healthy) counts: a busy pool is not a dead database.
 */
export class DatabaseBreaker {
  readonly #breaker: CircuitBreaker<[Operation], unknown>;
  /** The pool's own `connect`, which checks use whatever the breaker's state. */
  readonly #connect: () => Promise<pg.PoolClient>;
  readonly #connections = new Set<pg.PoolClient>();
  /** Callers waiting for a connection, answered at once if the breaker opens. */
  readonly #waiting = new Set<() => void>();
  /** Checks waiting for any sign of life from the database. */
  readonly #awaitingAnswer = new Set<() => void>();
  #attempt: Promise<void> | undefined;
  #latest: Promise<DatabaseCheck> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #failedChecksInARow = 0;

  constructor(
    private readonly pool: DbPool,
    private readonly logger: Logger,
  ) {
    this.#connect = pool.connect.bind(pool) as () => Promise<pg.PoolClient>;
    this.#breaker = new CircuitBreaker((operation: Operation) => operation(), {
      timeout: false,
      resetTimeout: TRIAL_AFTER_MS,
      // Opossum's latency percentiles and snapshots serve dashboards we do not have; they cost a sort per second.
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
      // Only a database out of reach opens the breaker; a query it answered with an error is an answer.
      errorFilter: (error: Error) => !(error instanceof CheckFailed) && !isDatabaseUnreachable(error),
      // Connections refused to requests open it too, once they are most of at least a few attempts (over 10 s).
      volumeThreshold: REQUEST_FAILURES_TO_OPEN,
    });
    this.#breaker.on("open", () => this.#opened());
    // Not awaited: an event listener; the trial settles on its own and never rejects.
    this.#breaker.on("halfOpen", () => void this.#trial());
    this.#breaker.on("close", () => this.#log("info", "database breaker closed: the database answers again"));
    pool.on("connect", (client) => this.#connections.add(client));
    pool.on("remove", (client) => this.#connections.delete(client));
    pool.on("release", (error, client) => {
      if (!error && !client.connection.stream.destroyed) this.#sawAnswer();
    });
  }

  get state(): BreakerState {
    if (this.#breaker.opened) return "open";
    return this.#breaker.halfOpen ? "halfOpen" : "closed";
  }

  /** Puts the pool behind the breaker (every query and transaction takes its connection through it) and starts the checks. */
  protect(): void {
    const guarded = (callback?: ConnectCallback) => {
      const acquired = this.#acquire();
      if (!callback) return acquired;
      // pg-pool's callback form (how `Pool#query` takes its connection): both outcomes go to the callback.
      void acquired.then(
        (client) => callback(undefined, client, client.release),
        (error: Error) => callback(error, undefined, () => undefined),
      );
      return undefined;
    };
    // Replaced on the instance, not wrapped in another object: drizzle recognises a pool by its class.
    this.pool.connect = guarded as DbPool["connect"];
    // Checks never reject (a failure is a `down` result), and each one's outcome is kept by #recordCheck itself.
    this.#timer = setInterval(() => void this.#recordCheck(), CHECK_INTERVAL_MS);
    this.#timer.unref();
    void this.#recordCheck();
  }

  /** The last settled check while the checks run; else (a pool left outside the breaker) one check now. */
  latestCheck(): Promise<DatabaseCheck> {
    return this.#latest ?? this.#check();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#breaker.shutdown();
  }

  /** `select 1`, or any other sign that the database answers, within CHECK_TIMEOUT_MS. */
  async #check(): Promise<DatabaseCheck> {
    const started = performance.now();
    const otherAnswer = this.#nextAnswer();
    try {
      await withDeadline(Promise.race([this.#selectOne(), otherAnswer.promise]), CHECK_TIMEOUT_MS);
      return { status: "up", latencyMs: Math.round((performance.now() - started) * 10) / 10 };
    } catch (error) {
      return { status: "down", error: error instanceof Error ? error.message : String(error) };
    } finally {
      otherAnswer.cancel();
    }
  }

  /** Checks share the attempt in flight: a silent database does not pile up connection attempts. */
  #selectOne(): Promise<void> {
    this.#attempt ??= this.#connectAndSelect().finally(() => (this.#attempt = undefined));
    return this.#attempt;
  }

  async #connectAndSelect(): Promise<void> {
    const client = await this.#connect();
    try {
      await client.query("select 1");
      client.release();
    } catch (error) {
      client.release(error instanceof Error ? error : true);
      throw error;
    }
  }

  /** Settles when a connection next comes back healthy from whatever it was doing. */
  #nextAnswer(): { promise: Promise<void>; cancel: () => void } {
    let resolveAnswer!: () => void;
    const promise = new Promise<void>((resolve) => {
      resolveAnswer = resolve;
    });
    this.#awaitingAnswer.add(resolveAnswer);
    return { promise, cancel: () => void this.#awaitingAnswer.delete(resolveAnswer) };
  }

  #sawAnswer(): void {
    for (const resolve of this.#awaitingAnswer) resolve();
    this.#awaitingAnswer.clear();
  }

  /** A check of the periodic round: the result is kept for health reports, and failures in a row open the breaker. */
  async #recordCheck(): Promise<DatabaseCheck> {
    const result = this.#check();
    // The first report waits for the first check; later ones get the last settled result at once.
    this.#latest ??= result;
    const check = await result;
    this.#latest = Promise.resolve(check);
    this.#failedChecksInARow = check.status === "down" ? this.#failedChecksInARow + 1 : 0;
    if (this.#failedChecksInARow >= FAILED_CHECKS_TO_OPEN && this.#breaker.closed) {
      this.#log("warn", "database check failed; breaker opens", { error: check.error });
      this.#breaker.open();
    }
    return check;
  }

  /** The one call a half-open breaker lets through: a check, whose answer closes the breaker and whose failure reopens it. */
  async #trial(): Promise<void> {
    await this.#breaker
      .fire(async () => {
        const check = await this.#recordCheck();
        if (check.status === "down") throw new CheckFailed(check.error);
      })
      .catch(() => undefined);
  }

  #acquire(): Promise<pg.PoolClient> {
    return new Promise((resolve, reject) => {
      let answered = false;
      const refuse = () => {
        answered = true;
        reject(databaseUnavailable());
      };
      this.#waiting.add(refuse);
      // Both outcomes are handled here; the caller awaits the promise this executor settles.
      void this.#breaker.fire(this.#connect).then(
        (client) => {
          this.#waiting.delete(refuse);
          // The caller was answered when the breaker opened: the connection it asked for goes straight back.
          if (answered) (client as pg.PoolClient).release();
          else resolve(releasedOnce(client as pg.PoolClient));
        },
        (error: unknown) => {
          this.#waiting.delete(refuse);
          reject(CircuitBreaker.isOurError(error as Error) ? databaseUnavailable() : error);
        },
      );
    });
  }

  #opened(): void {
    this.#log("warn", "database breaker open: requests that need the database answer 503 until a check gets an answer");
    for (const refuse of this.#waiting) refuse();
    this.#waiting.clear();
    // Every query on them fails now with a connection error, and the pool replaces them once the database answers.
    for (const client of this.#connections) client.connection.stream.destroy();
  }

  /** Breaker events fire inside whichever request tripped them: their lines must not carry its id. */
  #log(level: "info" | "warn", message: string, fields: Record<string, unknown> = {}): void {
    requestContext.exit(() => this.logger[level]({ breaker: this.state, ...fields }, message));
  }
}
