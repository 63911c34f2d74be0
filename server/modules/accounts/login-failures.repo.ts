import { and, eq, gt, inArray, lt, sql, type SQL } from "drizzle-orm";
import { loginFailures } from "../../../shared/schema/index.ts";
import type { Database } from "../../infra/db/client.ts";

export interface ThrottlePolicy {
  /** A key's count starts over after this long without a failure. */
  windowS: number;
  /** Failures within the window that block nothing. */
  freeFailures: number;
  /** The longest a key is blocked at once. */
  maxBlockS: number;
}

/**
 * Counters of failed sign-ins in Postgres, shared by every worker and instance.
 * Every time comes from the database's clock (`now()`), so instances whose
 * clocks differ still agree on when a block ends.
 */
export class LoginFailuresRepository {
  constructor(
    private readonly db: Database,
    private readonly policy: ThrottlePolicy,
  ) {}

  /** Seconds until the last of these keys is unblocked (at least 1), or undefined when none is blocked. */
  async blockedFor(keys: readonly string[]): Promise<number | undefined> {
    const [row] = await this.db
      .select({ seconds: sql<number | null>`ceil(extract(epoch from max(${loginFailures.blockedUntil}) - now()))::int` })
      .from(loginFailures)
      .where(and(inArray(loginFailures.key, [...keys]), gt(loginFailures.blockedUntil, sql`now()`)));
    return row?.seconds === null || row?.seconds === undefined ? undefined : Math.max(1, row.seconds);
  }

  /**
   * Counts one failure against the key (and blocks it when the policy says so).
   * With `unlessBlocked`, nothing is counted while the key is blocked, and the
   * answer is false: the caller lost a race against a failure that just blocked it.
   */
  async count(key: string, options: { unlessBlocked: boolean }): Promise<boolean> {
    const failures = sql`case when ${loginFailures.lastFailureAt} > now() - make_interval(secs => ${this.policy.windowS}::int)
      then ${loginFailures.failures} + 1 else 1 end`;
    const stillOpen = sql`where ${loginFailures.blockedUntil} is null or ${loginFailures.blockedUntil} <= now()`;
    const result = await this.db.execute(sql`
      insert into ${loginFailures} (key, failures, last_failure_at, blocked_until)
      values (${key}, 1, now(), ${this.blockAfter(sql`1`)})
      on conflict (key) do update
        set failures = ${failures}, last_failure_at = now(), blocked_until = ${this.blockAfter(failures)}
        ${options.unlessBlocked ? stillOpen : sql``}
      returning key`);
    return result.rows.length > 0;
  }

  async clear(key: string): Promise<void> {
    await this.db.delete(loginFailures).where(eq(loginFailures.key, key));
  }

  /** Rows whose count has started over anyway (their block, at most the window, has ended too). */
  async deleteExpired(): Promise<number> {
    const deleted = await this.db
      .delete(loginFailures)
      .where(
        lt(loginFailures.lastFailureAt, sql`now() - make_interval(secs => ${Math.max(this.policy.windowS, this.policy.maxBlockS)}::int)`),
      )
      .returning({ key: loginFailures.key });
    return deleted.length;
  }

  /** null up to the free failures, then now() + 2^(n - free) seconds, capped (the exponent too, so that power() cannot overflow). */
  private blockAfter(failures: SQL): SQL {
    const { freeFailures, maxBlockS } = this.policy;
    return sql`case when ${failures} > ${freeFailures}::int
      then now() + make_interval(secs => least(power(2, least(${failures} - ${freeFailures}::int, 30)), ${maxBlockS}::int))
      else null end`;
  }
}
