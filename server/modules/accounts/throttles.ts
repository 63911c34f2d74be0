import { AppError } from "../../core/app-error.ts";
import type { Database } from "../../infra/db/client.ts";
import type { ThrottlePolicy, ThrottleRepository } from "./throttle.repo.ts";

/**
 * Brute-force policy of password checks (sign-in, and the current password of a
 * password change), applied to two keys: the account (`email:<lower-cased
 * address>`, known or not, so an unknown email is throttled like a known one)
 * and the client address (`ip:<req.ip>`, which needs TRUST_PROXY behind a proxy).
 *
 * - A key's count starts over after 15 minutes without a failure.
 * - The first 5 failures within that window are free.
 * - Each further failure, the n-th, blocks the key for 2^(n-5) seconds (2 s, 4 s,
 *   8 s, ...), at most 15 minutes.
 * - While either key is blocked, the answer is 429 rate_limited with Retry-After,
 *   before any password hash is touched: the right password gets 429 as well.
 * - A success clears the account key, not the address key (a valid account of
 *   one's own must not unlock an address guessing at others).
 *
 * An attempt is counted against the account key before its password is checked
 * (and forgotten with the key on success), so guesses sent in parallel cannot all
 * pass the check before the first of them fails: once the free failures are used,
 * one guess at a time gets through. The address key counts failures after the
 * fact, so that successful sign-ins sharing an address (an office, a carrier's
 * NAT) never block each other.
 */
export const SIGN_IN_POLICY: ThrottlePolicy = { windowS: 15 * 60, freeHits: 5, firstBlockS: 2, maxBlockS: 15 * 60 };

/**
 * Reset emails, counted for every request whether the address has an account or
 * not (so the answer never tells). To one address: 3 free within an hour; the
 * 4th goes out and blocks the address for 15 minutes, the next ones for 30, then
 * an hour: a burst of any size sends 4 emails, a patient flood one an hour. From
 * one client address: 20 free (an office shares one), then 1 minute, 2, 4, ...
 * up to an hour.
 */
export const RESET_PER_ADDRESS_POLICY: ThrottlePolicy = { windowS: 60 * 60, freeHits: 3, firstBlockS: 15 * 60, maxBlockS: 60 * 60 };
export const RESET_PER_CLIENT_POLICY: ThrottlePolicy = { windowS: 60 * 60, freeHits: 20, firstBlockS: 60, maxBlockS: 60 * 60 };

/** No policy counts over a longer window or blocks for longer: counters idle this long can go. */
export const LONGEST_THROTTLE_S = 60 * 60;

export interface AttemptKeys {
  account: string;
  address: string;
}

export function attemptKeys(email: string, ip: string | undefined): AttemptKeys {
  return { account: `email:${email.trim().toLowerCase()}`, address: `ip:${ip ?? "unknown"}` };
}

export class SignInThrottle {
  constructor(
    private readonly db: Database,
    private readonly counters: ThrottleRepository,
  ) {}

  /** Admits one password check, or throws 429 rate_limited with Retry-After while a key is blocked. */
  async admit(keys: AttemptKeys): Promise<void> {
    await this.refuseIfBlocked(keys);
    if (!(await this.counters.hit(this.db, keys.account, SIGN_IN_POLICY, { unlessBlocked: true }))) {
      // A concurrent failure blocked the account between the check and the count.
      await this.refuseIfBlocked(keys);
      throw rateLimited(1);
    }
  }

  /** The account key was counted on admission; the address key is counted now. */
  async failed(keys: AttemptKeys): Promise<void> {
    await this.counters.hit(this.db, keys.address, SIGN_IN_POLICY, { unlessBlocked: false });
  }

  async succeeded(keys: AttemptKeys): Promise<void> {
    await this.counters.clear(this.db, keys.account);
  }

  /** After a password reset: whoever controls the mailbox may sign in at once. */
  async forgetAccount(email: string): Promise<void> {
    await this.counters.clear(this.db, attemptKeys(email, undefined).account);
  }

  private async refuseIfBlocked(keys: AttemptKeys): Promise<void> {
    const seconds = await this.counters.blockedFor(this.db, [keys.account, keys.address]);
    if (seconds !== undefined) throw rateLimited(seconds);
  }
}

/** Reset emails per address and per client address: a flood of requests sends a handful of emails, not a flood. */
export class ResetRequestThrottle {
  constructor(
    private readonly db: Database,
    private readonly counters: ThrottleRepository,
  ) {}

  /** Counts the request against both keys, or throws 429 rate_limited with Retry-After while either is blocked. */
  async admit(email: string, ip: string | undefined): Promise<void> {
    const keys = [`reset-to:${email.trim().toLowerCase()}`, `reset-ip:${ip ?? "unknown"}`] as const;
    const blocked = await this.counters.blockedFor(this.db, keys);
    if (blocked !== undefined) throw rateLimited(blocked);
    const counted = [
      await this.counters.hit(this.db, keys[0], RESET_PER_ADDRESS_POLICY, { unlessBlocked: true }),
      await this.counters.hit(this.db, keys[1], RESET_PER_CLIENT_POLICY, { unlessBlocked: true }),
    ];
    // A concurrent request blocked a key between the check and the count.
    if (counted.includes(false)) throw rateLimited((await this.counters.blockedFor(this.db, keys)) ?? 1);
  }
}

function rateLimited(retryAfterS: number): AppError {
  return new AppError("rate_limited", "too many attempts, retry later", { retryAfterS });
}
