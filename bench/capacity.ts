// `npm run capacity`: the plan of every tier on this machine (server/config/capacity-report.ts).
//
// `npm run capacity -- --measure` then measures, for each tier, the largest number of simultaneous members its
// settings hold on this machine with a p95 under 500 ms and no error: the product (the bundle, NODE_ENV=production,
// CAPACITY_TIER and its plan's WEB_CONCURRENCY, behind a simulated TLS proxy as in bench/run.ts) is loaded by simulated
// members (bench/members.ts) at rising counts, each count held after a short ramp, until a count fails. The tiers take
// each count in turn, each on a product started for it.
//
// Env: MEASURE_TIERS (comma-separated, all by default), MEASURE_STEPS (member counts, 25,50,100,...,3200),
// MEASURE_THINK_S (mean think time between a member's pages, 5), MEASURE_STEP_S (seconds each count is measured, 20),
// MEASURE_RAMP_S (seconds over which a count's members start, 5). Needs Postgres (the bench's own database, where the
// door's tickets are seeded); Redis when it answers, as the product would use it.
import { randomBytes } from "node:crypto";
import { availableParallelism, cpus } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { buildServer } from "../server/build.ts";
import { planCapacity } from "../server/config/capacity.ts";
import { printCapacityPlans } from "../server/config/capacity-report.ts";
import { loadCapacityOverrides } from "../server/config/env.ts";
import { CAPACITY_TIERS, type CapacityTier } from "../server/config/tiers.ts";
import { freePort } from "../server/infra/free-port.ts";
import { startProcess, stopAll, type RunningProcess } from "./cluster.ts";
import { largestPassing, P95_LIMIT_MS, parseSteps, passes, runStep, type SignedInMember, type StepResult } from "./members.ts";
import { codesNeeded, makeCommunity, seedDoor, signUpMembers, type BenchCommunity } from "./members-setup.ts";
import { RATE_LIMITS_COUNT_ONLY, resolveBenchServices, type BenchServices } from "./services.ts";
import { startBenchStripe, type BenchStripe } from "./stripe.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** The capacity analysis's estimate of the simultaneous users the product holds at a peak. */
const ANALYSIS_ESTIMATE = "50 to 100";
const WORKERS_LISTENING_TIMEOUT_MS = 30_000;

interface Options {
  tiers: CapacityTier[];
  steps: number[];
  thinkMs: number;
  rampMs: number;
  holdMs: number;
}

/** What stays the same across the tiers' products, so members signed up on one are signed in on the next. */
interface Run {
  services: BenchServices & { databaseUrl: string };
  stripe: BenchStripe;
  connectSecret: string;
  sessionSecret: string;
  ticketSigningKey: string;
}

interface TierResult {
  tier: CapacityTier;
  webWorkers: number;
  steps: StepResult[];
}

function seconds(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback * 1_000;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`invalid ${name}: ${raw}`);
  return value * 1_000;
}

function readOptions(): Options {
  const tiers = (process.env.MEASURE_TIERS || CAPACITY_TIERS.join(","))
    .split(",")
    .map((tier) => tier.trim())
    .filter((tier) => tier !== "");
  const unknown = tiers.filter((tier) => !(CAPACITY_TIERS as readonly string[]).includes(tier));
  if (unknown.length > 0) throw new Error(`MEASURE_TIERS: unknown tier(s) ${unknown.join(", ")} (${CAPACITY_TIERS.join(", ")})`);
  return {
    tiers: tiers as CapacityTier[],
    steps: parseSteps(process.env.MEASURE_STEPS),
    thinkMs: seconds("MEASURE_THINK_S", 5),
    rampMs: seconds("MEASURE_RAMP_S", 5),
    holdMs: seconds("MEASURE_STEP_S", 20),
  };
}

function webWorkersOf(tier: CapacityTier): number {
  return planCapacity(tier, loadCapacityOverrides(), availableParallelism()).webWorkers;
}

async function startProduct(run: Run, tier: CapacityTier): Promise<RunningProcess> {
  const port = await freePort();
  const workers = webWorkersOf(tier);
  const env = {
    ...process.env,
    ...run.stripe.env,
    STRIPE_CONNECT_WEBHOOK_SECRET: run.connectSecret,
    DATABASE_URL: run.services.databaseUrl,
    ...(run.services.redisUrl ? { REDIS_URL: run.services.redisUrl, REDIS_KEY_PREFIX: run.services.redisKeyPrefix } : {}),
    PORT: String(port),
    NODE_ENV: "production",
    SESSION_SECRET: run.sessionSecret,
    TICKET_SIGNING_KEY: run.ticketSigningKey,
    // Secure session cookies over plain HTTP, as behind a TLS-terminating proxy (bench/fixtures.ts).
    TRUST_PROXY: "loopback",
    LOG_LEVEL: "warn",
    // Each count stops its product: no load balancer to wait for.
    SHUTDOWN_DRAIN_DELAY_MS: "0",
    CAPACITY_TIER: tier,
    WEB_CONCURRENCY: String(workers),
    // Every simulated member comes from 127.0.0.1: per-client limits would measure the limiter, not the tier.
    RATE_LIMIT_MULTIPLIER: RATE_LIMITS_COUNT_ONLY,
  };
  const product = await startProcess([process.execPath, "dist/server/entry/primary.js"], env, `http://127.0.0.1:${port}/api/health/live`, {
    cwd: ROOT,
  });
  await workersListening(product, workers);
  return product;
}

/** The probe answers once the first web worker listens: wait until every one has answered (each says its pid). */
async function workersListening(product: RunningProcess, workers: number): Promise<void> {
  const pids = new Set<number>();
  const deadline = Date.now() + WORKERS_LISTENING_TIMEOUT_MS;
  while (pids.size < workers) {
    if (Date.now() > deadline) throw new Error(`${pids.size} of ${workers} web workers answered after ${WORKERS_LISTENING_TIMEOUT_MS} ms`);
    const response = await fetch(`${product.url}/api/health/live`, { headers: { connection: "close" } });
    pids.add(((await response.json()) as { pid: number }).pid);
    await sleep(50);
  }
}

const ms = (value: number) => (Number.isNaN(value) ? "n/a" : `${Math.round(value)} ms`);
const count = (value: number) => Math.round(value).toLocaleString("en-US");

function stepLine(tier: CapacityTier, result: StepResult): string {
  const errors = result.errorKinds.map(([kind, n]) => `${kind} × ${n}`).join("; ");
  const slowest = result.slowest.map(([kind, p95]) => `${kind} ${ms(p95)}`).join(", ");
  return (
    `  ${tier.padEnd(8)} ${String(result.members).padStart(5)} members: ${count(result.requests)} requests, ` +
    `${count(result.reqPerSec)} req/s, p50 ${ms(result.p50Ms)}, p95 ${ms(result.p95Ms)}, ${result.errors} errors: ` +
    `${passes(result) ? "pass" : "FAIL"}${errors ? ` (${errors})` : ""}\n` +
    `           slowest p95: ${slowest}; load generator ${result.generatorCores.toFixed(2)} cores, load average ${result.loadAverage.toFixed(1)}`
  );
}

/** What the counts share: the community, made on the first product, and the members signed up so far. */
interface Population {
  community?: BenchCommunity;
  members: SignedInMember[];
}

/**
 * Each count, for every tier that has not failed yet, back to back (so that a change in the machine's load hits the
 * tiers alike), until every tier has failed or the counts run out.
 */
async function measureTiers(run: Run, options: Options): Promise<TierResult[]> {
  const results: TierResult[] = options.tiers.map((tier) => ({ tier, webWorkers: webWorkersOf(tier), steps: [] }));
  const population: Population = { members: [] };
  for (const members of options.steps) {
    for (const result of results.filter(({ steps }) => steps.every(passes))) {
      result.steps.push(await measureStep(run, options, result.tier, members, population));
    }
  }
  return results;
}

/** One count on a product of the tier's own, started for it: no step inherits the backlog of the one before. */
async function measureStep(run: Run, options: Options, tier: CapacityTier, members: number, population: Population): Promise<StepResult> {
  const product = await startProduct(run, tier);
  try {
    const webhooks = { stripe: run.stripe, connectSecret: run.connectSecret };
    const community = (population.community ??= await makeCommunity(product.url, run.services.databaseUrl, webhooks));
    if (population.members.length < members) {
      console.error(`  signing up members ${population.members.length + 1} to ${members}...`);
      population.members.push(...(await signUpMembers(product.url, community, population.members.length, members)));
    }
    const codes = codesNeeded(members, options.rampMs + options.holdMs);
    const nextCode = await seedDoor(run.services.databaseUrl, community, codes, run.ticketSigningKey);
    const world = { baseUrl: product.url, slug: community.slug, eventId: community.eventId, stripe: run.stripe, nextCode };
    const result = await runStep(world, population.members.slice(0, members), options);
    if (!product.isRunning()) throw new Error(`the product exited during the step\n--- last output ---\n${product.outputTail()}`);
    console.log(stepLine(tier, result));
    return result;
  } finally {
    await product.stop();
  }
}

function printTable(results: TierResult[], options: Options): void {
  const cpuCount = availableParallelism();
  const header = [
    "tier",
    "web workers",
    `largest simultaneous members (p95 < ${P95_LIMIT_MS} ms, no errors)`,
    "per core",
    "p95 at that step",
    "req/s",
    "analysis's estimate",
  ];
  const rows = results.map(({ tier, webWorkers, steps }) => {
    const best = largestPassing(steps);
    const untried = best !== undefined && best === steps.at(-1) && best.members === options.steps.at(-1);
    const largest = best ? `${count(best.members)}${untried ? "+ (largest step)" : ""}` : `< ${options.steps[0]}`;
    return [
      tier,
      String(webWorkers),
      largest,
      best ? count(best.members / cpuCount) : "",
      best ? ms(best.p95Ms) : "",
      best ? count(best.reqPerSec) : "",
      ANALYSIS_ESTIMATE,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  console.log(`\n${line(header)}\n| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`);
  for (const row of rows) console.log(line(row));
}

function printParameters(options: Options, run: Run): void {
  console.log(`\nSimultaneous members, measured (${new Date().toISOString()})`);
  console.log(`  node ${process.version}, ${availableParallelism()} CPUs (${cpus()[0]?.model ?? "unknown"})`);
  console.log("  the load generator (this process), the product, Postgres and Redis share these CPUs: its own share is printed per step");
  console.log(
    `  tiers: ${options.tiers.join(", ")}; members: ${options.steps.join(", ")}; each count: ${options.rampMs / 1_000} s ramp, ` +
      `${options.holdMs / 1_000} s measured; think time exponential, mean ${options.thinkMs / 1_000} s`,
  );
  console.log(
    "  members: 1 in 20 scans tickets at the door (a scan every 2 s on average), 1 in 10 pays dues (Checkout, then Stripe's " +
      "signed webhook), 1 in 10 is an admin (members and payments pages too), the others browse",
  );
  console.log(`  sessions in ${run.services.redisUrl ? "Redis" : "Postgres (local mode, no Redis)"}; the bench's own database\n`);
}

async function measure(): Promise<void> {
  const options = readOptions();
  const services = await resolveBenchServices();
  const { databaseUrl } = services;
  if (!databaseUrl) {
    await services.release();
    throw new Error("--measure needs Postgres (DATABASE_URL, or one at 127.0.0.1:5432): the door's tickets are seeded with SQL");
  }
  const run: Run = {
    services: { ...services, databaseUrl },
    stripe: await startBenchStripe(),
    connectSecret: `whsec_${randomBytes(16).toString("hex")}`,
    sessionSecret: randomBytes(32).toString("hex"),
    ticketSigningKey: randomBytes(32).toString("hex"),
  };
  const release = async () => {
    await stopAll();
    await run.stripe.fake.close();
    await services.release();
  };
  stopOnSignals(release);
  try {
    printParameters(options, run);
    await buildServer();
    printTable(await measureTiers(run, options), options);
  } finally {
    await release();
  }
}

/** Ctrl-C / SIGTERM: the products live in their own process groups, so the terminal won't signal them for us. */
function stopOnSignals(release: () => Promise<void>): void {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping...`);
      void release().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
    });
  }
}

async function main(): Promise<void> {
  printCapacityPlans();
  if (process.argv.includes("--measure")) await measure();
}

main().then(
  () => process.exit(0),
  async (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    await stopAll();
    process.exit(1);
  },
);
