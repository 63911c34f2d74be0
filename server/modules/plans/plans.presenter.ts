import type { PlanDto } from "../../../shared/api/plans.ts";
import type { PlanRow } from "../../../shared/schema/index.ts";

export function presentPlan(plan: PlanRow): PlanDto {
  return {
    id: plan.id,
    name: plan.name,
    priceMonthlyCents: plan.priceMonthlyCents,
    currency: plan.currency,
    limits: { members: plan.membersLimit, eventsPerMonth: plan.eventsPerMonthLimit, requestsPerMinute: plan.requestsPerMinute },
  };
}
