import cluster from "node:cluster";
import type { Redis } from "ioredis";
import {
  RateLimiterCluster,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  RLWrapperTimeouts,
  type RateLimiterAbstract,
} from "rate-limiter-flexible";
import type { AppEnv } from "../config/env.ts";

/**
 * The product's rate limits (docs/operations.md, Rate limits). Counters live where every process that serves the
 * same clients sees them: in Redis; without Redis, in the primary of the cluster (RateLimiterClusterMaster); in the
 * process itself when it runs alone. A shared counter that does not answer within STORE_TIMEOUT_MS (Redis down or
 * frozen, the primary too busy) is replaced, for that request, by an in-memory insurance limiter of this process
 * holding its share of the allowance: a request never waits on a dead Redis, and never fails because of one.
 */
const STORE_TIMEOUT_MS = 500;

/** Where one request stands against one limit. */
export interface LimitCount {
  /** The policy's name, as the RateLimit headers and the 429 body give it. */
  policy: string;
  quota: number;
  windowS: number;
  allowed: boolean;
  remaining: number;
  /** Seconds until the window starts over, or the block is lifted. */
  resetS: number;
}

type RateLimiter = RateLimiterAbstract;
type LimiterMaker = (keyPrefix: string, points: number, durationS: number) => RateLimiter;

export class Limit {
  constructor(
    readonly policy: string,
    readonly quota: number,
    readonly windowS: number,
    private readonly limiter: RateLimiter,
    /** 0: never blocks. */
    private readonly blockS: number,
  ) {}

  /** Counts one request of this key. */
  async count(key: string): Promise<LimitCount> {
    try {
      return this.#countOf(await this.limiter.consume(key), true);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      return this.#countOf(await this.#blockIfAbusive(key, rejection), false);
    }
  }

  /**
   * A key that reaches twice its quota within one window is blocked for blockS. The block sets its counter just over
   * the quota, so requests it keeps sending while blocked count again: another quota's worth restarts the block.
   */
  async #blockIfAbusive(key: string, rejection: RateLimiterRes): Promise<RateLimiterRes> {
    if (this.blockS === 0 || rejection.consumedPoints < 2 * this.quota) return rejection;
    return this.limiter.block(key, this.blockS);
  }

  #countOf(result: RateLimiterRes, allowed: boolean): LimitCount {
    return {
      policy: this.policy,
      quota: this.quota,
      windowS: this.windowS,
      allowed,
      remaining: allowed ? result.remainingPoints : 0,
      resetS: Math.max(1, Math.ceil(result.msBeforeNext / 1_000)),
    };
  }
}

export class RateLimits {
  /**
   * Every request an instance serves, all workers together: a safety net against floods, per second. Counted in each
   * web worker's memory, which holds its share of the allowance (the cluster deals connections out in turn): a net
   * needs no shared count, and a shared one would put a round trip to Redis, and one key every request of the
   * instance writes, in front of every request.
   */
  readonly global: Limit;
  /** Anonymous requests per client address (an IPv6 /64), per minute. */
  readonly anonymous: Limit;
  /** Per client address, per minute, on top of the per-user or per-address limit. */
  readonly signIn: Limit;
  readonly registration: Limit;
  readonly passwordReset: Limit;
  /** Scans per staff member, per minute: door staff scan in bursts. */
  readonly checkin: Limit;
  readonly #perUser = new Map<number, Limit>();

  constructor(
    private readonly config: AppEnv["rateLimits"],
    private readonly makeLimiter: LimiterMaker,
    /** The web workers of the instance, each counting its share of the global limit. */
    sharedBy: number,
  ) {
    // Never blocks: a flood would otherwise refuse every client of the instance for the whole block.
    const globalShare: LimiterMaker = (_name, points, duration) =>
      new RateLimiterMemory({ points: Math.ceil(points / sharedBy), duration });
    this.global = this.#limit("global", config.globalPerS, 1, 0, globalShare);
    this.anonymous = this.#limit("per-ip", config.anonymousPerMin, 60);
    this.signIn = this.#limit("sign-in", config.authPerMin, 60);
    this.registration = this.#limit("registration", config.authPerMin, 60);
    this.passwordReset = this.#limit("password-reset", config.authPerMin, 60);
    this.checkin = this.#limit("check-in", config.checkinPerMin, 60);
  }

  /** A signed-in user's limit: their plan's allowance per minute (one limiter per distinct allowance). */
  perUser(requestsPerMinute: number): Limit {
    let limit = this.#perUser.get(requestsPerMinute);
    if (!limit) {
      limit = this.#limit("per-user", requestsPerMinute, 60);
      this.#perUser.set(requestsPerMinute, limit);
    }
    return limit;
  }

  #limit(policy: string, allowance: number, windowS: number, blockS = this.config.blockS, makeLimiter = this.makeLimiter): Limit {
    const quota = Math.max(1, Math.round(allowance * this.config.multiplier));
    // The quota is part of the counters' names: a changed allowance starts afresh instead of meeting counts kept under another.
    return new Limit(policy, quota, windowS, makeLimiter(`rl:${policy}:${quota}`, quota, windowS), blockS);
  }
}

/**
 * The limiters' store: Redis when configured, else the cluster's primary, else this process. `webWorkers` share an
 * instance's traffic: each one's insurance limiter holds that share of the allowance.
 */
export function createRateLimits(config: AppEnv, redis: Redis | undefined): RateLimits {
  const sharedBy = cluster.isWorker ? config.plan.webWorkers : 1;
  const insured = (limiter: RateLimiter, points: number, duration: number): RateLimiter =>
    new RLWrapperTimeouts({
      limiter,
      timeoutMs: STORE_TIMEOUT_MS,
      insuranceLimiter: new RateLimiterMemory({ points: Math.ceil(points / sharedBy), duration }),
    });
  const makeLimiter: LimiterMaker = (name, points, duration) => {
    const keyPrefix = `${config.redisKeyPrefix}${name}`;
    if (redis) {
      // Not ready (reconnecting): fail at once to the insurance limiter rather than try the closed connection.
      return insured(
        new RateLimiterRedis({ storeClient: redis, rejectIfRedisNotReady: true, keyPrefix, points, duration }),
        points,
        duration,
      );
    }
    if (cluster.isWorker)
      return insured(new RateLimiterCluster({ timeoutMs: STORE_TIMEOUT_MS, keyPrefix, points, duration }), points, duration);
    return new RateLimiterMemory({ keyPrefix, points, duration });
  };
  return new RateLimits(config.rateLimits, makeLimiter, sharedBy);
}
