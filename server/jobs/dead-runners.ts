import type pg from "pg";
import type { Logger } from "pino";
import { isDatabaseUnreachable } from "../infra/db/unreachable.ts";

/**
 * A job runner that dies (its process killed, out of memory, or its runner
 * stopped with its connections lost) leaves the jobs it had taken locked under
 * its name, and graphile-worker frees such jobs only 4 hours after they were
 * locked. Worse, the last request of a dead runner may reach Postgres after its
 * death (its kernel retransmits what it had sent once a network cut heals, or a
 * relay delivers it): a job can be locked by a runner that no longer exists, at
 * any moment after that runner died. So the jobs of runners known to be dead
 * are released not once but at every sweep, until graphile-worker's own rule
 * takes over.
 */

/** How often locks of dead runners are looked for: a job they took runs at most this late (plus a poll). */
const SWEEP_INTERVAL_MS = 2_000;

export class DeadRunnerLocks {
  /** Names of dead runners, with when they were reported dead. */
  readonly #dead = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly logger: Logger,
    /** A dead runner is forgotten this long after it was reported: by then graphile-worker frees its jobs by itself. */
    private readonly forgetAfterMs: number,
  ) {}

  /** Runners that no longer run, by the name they lock jobs under; their jobs are released from the next sweep on. */
  add(names: readonly string[]): void {
    const fresh = names.filter((name) => !this.#dead.has(name));
    if (fresh.length === 0) return;
    for (const name of fresh) this.#dead.set(name, Date.now());
    this.logger.info({ runners: fresh }, "jobs locked by dead job runners will be released");
    void this.#sweep();
  }

  start(): void {
    this.#timer = setInterval(() => void this.#sweep(), SWEEP_INTERVAL_MS);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#sweeping;
  }

  /** One sweep at a time; never rejects (a database out of reach is swept again at the next interval). */
  #sweep(): Promise<void> {
    this.#sweeping ??= this.#release()
      .catch((error: unknown) => {
        if (!isDatabaseUnreachable(error)) this.logger.warn({ err: error }, "could not release the jobs of dead job runners");
      })
      .finally(() => (this.#sweeping = undefined));
    return this.#sweeping;
  }

  async #release(): Promise<void> {
    const names = this.#current();
    if (names.length === 0) return;
    const { rows } = await this.pool.query<{ locked: number }>(
      "select count(*)::int as locked from graphile_worker.jobs where locked_by = any($1::text[])",
      [names],
    );
    if (!rows[0]?.locked) return;
    await this.pool.query("select graphile_worker.force_unlock_workers($1::text[])", [names]);
    this.logger.warn({ released: rows[0].locked, runners: names }, "released jobs locked by dead job runners");
  }

  /** Dead runners whose locks graphile-worker does not free by itself yet. */
  #current(): string[] {
    const forgetBefore = Date.now() - this.forgetAfterMs;
    for (const [name, diedAt] of this.#dead) if (diedAt < forgetBefore) this.#dead.delete(name);
    return [...this.#dead.keys()];
  }
}
