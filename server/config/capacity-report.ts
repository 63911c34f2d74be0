import os from "node:os";
import { loadCapacityOverrides } from "./env.ts";
import { planCapacity, type CapacityOverrides, type CapacityPlan } from "./capacity.ts";
import { CAPACITY_TIERS } from "./tiers.ts";

/**
 * The plan of every tier on this machine, with the overrides set in the current environment (WEB_CONCURRENCY,
 * DB_CONNECTION_BUDGET, ...): what `npm run capacity` prints (bench/capacity.ts).
 */

const ROWS: Array<[label: string, value: (plan: CapacityPlan) => string | number]> = [
  ["web workers", (plan) => plan.webWorkers],
  ["processes with a pool (web + 1 background)", (plan) => plan.poolProcesses],
  ["DB connection budget", (plan) => plan.dbConnectionBudget],
  ["  reserved (migrations, admin)", (plan) => plan.dbConnectionReserve],
  ["  pool max per process", (plan) => plan.poolMaxPerProcess],
  ["  pool min per process", (plan) => plan.poolMinPerProcess],
  ["  all pools at max", (plan) => plan.poolConnectionsTotal],
  ["statement timeout (ms)", (plan) => plan.dbStatementTimeoutMs],
  ["max connections per web worker", (plan) => plan.maxConnectionsPerWorker],
  ["JSON body limit (kB)", (plan) => plan.bodyLimitBytes / 1024],
  ["shed above in-flight requests per web worker", (plan) => plan.maxInFlightPerWorker || "off"],
  ["shed above event-loop delay (ms, p99)", (plan) => plan.maxEventLoopDelayMs || "off"],
  ["cache: community profile TTL (s)", (plan) => plan.cache.communityTtlS],
  ["  plans TTL (s)", (plan) => plan.cache.plansTtlS],
  ["  signed-in user, member role TTL (s)", (plan) => `${plan.cache.sessionUserTtlS}, ${plan.cache.memberRoleTtlS}`],
  ["  grace when the database fails (h)", (plan) => plan.cache.graceS / 3_600],
  ["  in-memory layer per process (MB)", (plan) => plan.cache.maxMb],
];

function planOrReason(tier: (typeof CAPACITY_TIERS)[number], overrides: CapacityOverrides, cpus: number): CapacityPlan | string {
  try {
    return planCapacity(tier, overrides, cpus);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** Throws a ConfigError when the environment's overrides are invalid. */
export function printCapacityPlans(): void {
  const cpus = os.availableParallelism();
  const overrides = loadCapacityOverrides();
  const plans = CAPACITY_TIERS.map((tier) => ({ tier, plan: planOrReason(tier, overrides, cpus) }));
  const width = Math.max(...ROWS.map(([label]) => label.length)) + 2;
  const set = Object.entries(overrides).filter(([, value]) => value !== undefined);
  console.log(
    `Capacity plans on this machine (${cpus} CPUs)${set.length ? `, with overrides ${JSON.stringify(Object.fromEntries(set))}` : ""}\n`,
  );
  console.log("".padEnd(width) + plans.map(({ tier }) => tier.padStart(10)).join(""));
  for (const [label, value] of ROWS) {
    console.log(
      label.padEnd(width) + plans.map(({ plan }) => String(typeof plan === "string" ? "refused" : value(plan)).padStart(10)).join(""),
    );
  }
  for (const { tier, plan } of plans) if (typeof plan === "string") console.log(`\n${tier} refused: ${plan}`);
  console.log("\npool max per process = floor((budget - reserve) / (web workers + 1)), refused below 2;");
  console.log("at start the primary also refuses a budget above the server's max_connections - superuser_reserved_connections.");
}
