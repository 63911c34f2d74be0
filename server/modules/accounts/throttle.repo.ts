import { and, eq, gt, inArray, lt, or, isNull, sql, type SQL } from "drizzle-orm";
import { throttleCounters } from "../../../shared/schema/index.ts";
import type { Executor } from "../../infra/db/client.ts";

export interface ThrottlePolicy {
  /** A key's count starts over after this long without a hit. */
  windowS: number;
  /** Hits within the window that block nothing. */
  freeHits: number;
  /** The block the first hit past the free ones starts; each further hit doubles it. */
  firstBlockS: number;
  /** The longest a key is blocked at once. */
  maxBlockS: number;
}

/**
 * Counters of attempts per key in Postgres, shared by every worker and
 * instance. Every time comes from the database's clock (`now()`), so instances
 * whose clocks differ still agree on when a block ends.
 */
export class ThrottleRepository {
  /** Seconds until the last of these keys is unblocked (at least 1), or undefined when none is blocked. */
  async blockedFor(db: Executor, keys: readonly string[]): Promise<number | undefined> {
    const [row] = await db
      .select({ seconds: sql<number | null>`ceil(extract(epoch from max(${throttleCounters.blockedUntil}) - now()))::int` })
      .from(throttleCounters)
      .where(and(inArray(throttleCounters.key, [...keys]), gt(throttleCounters.blockedUntil, sql`now()`)));
    return row?.seconds === null || row?.seconds === undefined ? undefined : Math.max(1, row.seconds);
  }

  /**
   * Counts one hit against the key (and blocks it when the policy says so).
   * With `unlessBlocked`, nothing is counted while the key is blocked, and the
   * answer is false: the caller lost a race against a hit that just blocked it.
   */
  async hit(db: Executor, key: string, policy: ThrottlePolicy, options: { unlessBlocked: boolean }): Promise<boolean> {
    const hits = sql`case when ${throttleCounters.lastHitAt} > now() - make_interval(secs => ${policy.windowS}::int)
      then ${throttleCounters.hits} + 1 else 1 end`;
    const stillOpen = sql`where ${throttleCounters.blockedUntil} is null or ${throttleCounters.blockedUntil} <= now()`;
    const result = await db.execute(sql`
      insert into ${throttleCounters} (key, hits, last_hit_at, blocked_until)
      values (${key}, 1, now(), ${blockAfter(policy, sql`1`)})
      on conflict (key) do update
        set hits = ${hits}, last_hit_at = now(), blocked_until = ${blockAfter(policy, hits)}
        ${options.unlessBlocked ? stillOpen : sql``}
      returning key`);
    return result.rows.length > 0;
  }

  async clear(db: Executor, key: string): Promise<void> {
    await db.delete(throttleCounters).where(eq(throttleCounters.key, key));
  }

  /** Counters without a hit for this long and no block left: their count has started over anyway. */
  async deleteIdle(db: Executor, idleS: number): Promise<number> {
    const deleted = await db
      .delete(throttleCounters)
      .where(
        and(
          lt(throttleCounters.lastHitAt, sql`now() - make_interval(secs => ${idleS}::int)`),
          or(isNull(throttleCounters.blockedUntil), lt(throttleCounters.blockedUntil, sql`now()`)),
        ),
      )
      .returning({ key: throttleCounters.key });
    return deleted.length;
  }
}

/** null up to the free hits, then now() + first block × 2^(n - free - 1), capped (the exponent too, so that power() cannot overflow). */
function blockAfter({ freeHits, firstBlockS, maxBlockS }: ThrottlePolicy, hits: SQL): SQL {
  return sql`case when ${hits} > ${freeHits}::int
    then now() + make_interval(secs => least(${firstBlockS}::int * power(2, least(${hits} - ${freeHits}::int - 1, 30)), ${maxBlockS}::int))
    else null end`;
}
