import { AppError } from "../../core/app-error.ts";
import type { LoginFailuresRepository, ThrottlePolicy } from "./login-failures.repo.ts";

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
export const SIGN_IN_POLICY: ThrottlePolicy = {
  windowS: 15 * 60,
  freeFailures: 5,
  maxBlockS: 15 * 60,
};

export interface AttemptKeys {
  account: string;
  address: string;
}

export function attemptKeys(email: string, ip: string | undefined): AttemptKeys {
  return { account: `email:${email.trim().toLowerCase()}`, address: `ip:${ip ?? "unknown"}` };
}

export class SignInThrottle {
  constructor(private readonly failures: LoginFailuresRepository) {}

  /** Admits one password check, or throws 429 rate_limited with Retry-After while a key is blocked. */
  async admit(keys: AttemptKeys): Promise<void> {
    await this.refuseIfBlocked(keys);
    if (!(await this.failures.count(keys.account, { unlessBlocked: true }))) {
      // A concurrent failure blocked the account between the check and the count.
      await this.refuseIfBlocked(keys);
      throw rateLimited(1);
    }
  }

  /** The account key was counted on admission; the address key is counted now. */
  async failed(keys: AttemptKeys): Promise<void> {
    await this.failures.count(keys.address, { unlessBlocked: false });
  }

  async succeeded(keys: AttemptKeys): Promise<void> {
    await this.failures.clear(keys.account);
  }

  /** After a password reset: whoever controls the mailbox may sign in at once. */
  async forgetAccount(email: string): Promise<void> {
    await this.failures.clear(attemptKeys(email, undefined).account);
  }

  private async refuseIfBlocked(keys: AttemptKeys): Promise<void> {
    const seconds = await this.failures.blockedFor([keys.account, keys.address]);
    if (seconds !== undefined) throw rateLimited(seconds);
  }
}

function rateLimited(retryAfterS: number): AppError {
  return new AppError("rate_limited", "too many failed attempts, retry later", { retryAfterS });
}
