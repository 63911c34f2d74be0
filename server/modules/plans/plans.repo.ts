import { asc } from "drizzle-orm";
import { plans, type PlanRow } from "../../../shared/schema/index.ts";
import type { Executor } from "../../infra/db/client.ts";

/** The plans table: three rows, seeded by a migration. */
export class PlansRepository {
  /** Every plan, cheapest first. */
  async all(db: Executor): Promise<PlanRow[]> {
    return db.select().from(plans).orderBy(asc(plans.rank));
  }
}
