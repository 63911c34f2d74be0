/** `GET /api/plans`: each plan with its monthly price and limits (null: no limit). */
export interface PlanDto {
  id: string;
  name: string;
  priceMonthlyCents: number;
  currency: string;
  limits: { members: number | null; eventsPerMonth: number | null; requestsPerMinute: number };
}

/** The limits a plan sets that the product enforces, by their names in the API. */
export type PlanLimitName = "members" | "eventsPerMonth";
