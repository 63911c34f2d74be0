import type { PlanLimitName } from "../../../shared/api/plans.ts";
import type { PlanRow } from "../../../shared/schema/index.ts";
import { AppError } from "../../core/app-error.ts";
import type { Database, Executor } from "../../infra/db/client.ts";
import type { Cache } from "../../infra/cache.ts";
import type { PlansRepository } from "./plans.repo.ts";

const LIMIT_OF: Record<PlanLimitName, (plan: PlanRow) => number | null> = {
  members: (plan) => plan.membersLimit,
  eventsPerMonth: (plan) => plan.eventsPerMonthLimit,
};

const LIMIT_WORDS: Record<PlanLimitName, string> = { members: "members", eventsPerMonth: "events a month" };

export class PlansService {
  constructor(
    private readonly db: Database,
    private readonly repo: PlansRepository,
    private readonly cache: Cache,
  ) {}

  /** From the cache: the plans change by a migration, at a release, and the cache's TTL is an hour at most. */
  async list(): Promise<PlanRow[]> {
    return (await this.cache.get("plans", "all", () => this.repo.all(this.db))) ?? [];
  }

  /**
   * Refuses (403 plan_limit) what would take a community past a limit of its plan: `used` is what the community has
   * now, counted by the caller under the lock that serializes what it counts, so that two requests at the limit
   * cannot both pass. The error names the limit and the cheapest plan that lifts it.
   */
  async assertRoom(db: Executor, planId: string, limit: PlanLimitName, used: number): Promise<void> {
    const all = await this.repo.all(db);
    const plan = all.find((candidate) => candidate.id === planId);
    if (!plan) throw new Error(`community on an unknown plan "${planId}"`);
    const allowed = LIMIT_OF[limit](plan);
    if (allowed === null || used < allowed) return;
    const lifting = all.find((candidate) => candidate.rank > plan.rank && isAbove(LIMIT_OF[limit](candidate), allowed));
    const upgrade = lifting ? `; the ${lifting.name} plan allows ${describeLimit(LIMIT_OF[limit](lifting))}` : "";
    throw new AppError("plan_limit", `${limit}: the ${plan.name} plan allows ${allowed} ${LIMIT_WORDS[limit]}${upgrade}`, {
      extra: { limit, allowed, plan: plan.id, upgradeTo: lifting?.id ?? null },
    });
  }
}

const isAbove = (candidate: number | null, allowed: number) => candidate === null || candidate > allowed;
const describeLimit = (value: number | null) => (value === null ? "no limit" : `up to ${value}`);
