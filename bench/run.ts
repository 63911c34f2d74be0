// `npm run bench`: load-test the product against a bare Express cluster started in
// the same run (the HTTP ceiling) and, for the database-bound scenarios, against the
// same repository calls run straight on a `pg` pool (the database ceiling), and report
// the ratios (absolute numbers depend on the machine and on the load generator sharing
// its CPUs, ratios much less). The load generator is wrk when installed (one thread),
// else autocannon; the output says which.
// `npm run bench -- --json FILE` also writes the parameters and figures to FILE.
// `npm run bench -- --soak` runs the mixed peak alone for BENCH_SOAK_S (180) seconds
// and prints the memory of each of the product's processes.
// `npm run bench -- --scale-figures` prints the per-instance figures of docs/scaling.md
// instead (bench/scale-figures.ts: Redis memory per key, the webhook queue's throughput).
//
// Env: WEB_CONCURRENCY (workers, both targets), BENCH_CONNECTIONS (100),
// BENCH_DURATION (s, 10), BENCH_WARMUP (s, 2; 0 disables), BENCH_ROUNDS (1; >1
// alternates baseline/product that many times and reports medians), BENCH_SCENARIOS
// (comma-separated name substrings), BENCH_PRODUCT_CMD (replaces the product
// command, whitespace-split; e.g. "node --import tsx bench/baseline.ts"), BENCH_SOAK_S,
// BENCH_GENERATOR=autocannon (autocannon even where wrk is installed).
//
// The product gets RATE_LIMIT_MULTIPLIER=100000 (bench/services.ts): its rate limits are
// checked on every request, as in production, but never reject the bench's few users.
//
// The product runs in production mode, so its session cookie is Secure: it gets
// TRUST_PROXY=loopback and the bench sends X-Forwarded-Proto: https, as the
// TLS-terminating proxy in front of a deployment does (bench/fixtures.ts).
// A scenario's setup failing stops the run; answers with another status than the
// scenario expects are counted, and more than 1% of them fail the run.
import { randomBytes } from "node:crypto";
import { availableParallelism, cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { buildServer } from "../server/build.ts";
import { loadConfig } from "../server/config/env.ts";
import { freePort } from "../server/infra/free-port.ts";
import { startProcess, stopAll, type RunningProcess } from "./cluster.ts";
import { cpuPerRequest } from "./cpu.ts";
import { ceilingTransactions, measureDbCeiling, productTransactions, type DbWork } from "./db-ceiling.ts";
import { countOf, mergeBuckets, percentile } from "./latency.ts";
import { budget, generator, runLoad, type LoadRequest, type LoadResult } from "./load.ts";
import { printNotesAndChecks, printTable, writeJson, type ClassFigures, type Measurement, type TargetName } from "./report.ts";
import { selectScenarios, scenarios, type Scenario, type ScenarioLoad, type SetupContext } from "./scenarios.ts";
import { RATE_LIMITS_COUNT_ONLY, resolveBenchServices, type BenchServices } from "./services.ts";
import { scaleFigures } from "./scale-figures.ts";
import { groupRss, instanceHeap, sampleMemory, type ProcessMemory } from "./soak.ts";
import { startBenchStripe, type BenchStripe } from "./stripe.ts";

type HttpTarget = Exclude<TargetName, "database">;

interface Config {
  workers: number;
  connections: number;
  durationS: number;
  warmupS: number;
  rounds: number;
  /** `--soak`: the mixed peak alone, this long, with the memory of the product's processes. */
  soakS: number | undefined;
  /** `--scale-figures`: bench/scale-figures.ts instead of the scenarios. */
  scaleFigures: boolean;
  scenarios: Scenario[];
  productCmd: string[];
  services: BenchServices;
  /** The Stripe the product talks to (a test double in this process), for the webhook scenario. */
  stripe: BenchStripe;
  /** The product's environment, but for its port. */
  productEnv: NodeJS.ProcessEnv;
  /** The product's pools together (web workers × pool max per process): the database ceiling's pool. */
  productPoolMax: number;
  statementTimeoutMs: number;
  /** Selected scenarios that cannot run here, with the reason. */
  skipped: Array<{ scenario: Scenario; reason: string }>;
  /** Where `--json FILE` asks the figures to be written. */
  jsonFile: string | undefined;
}

/** A report section printed after the servers are stopped, so it gets the CPUs to itself. */
interface ExtraSection {
  title: string;
  run: () => Promise<void>;
}

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SOAK_SCENARIO = "mixed peak";
/** Seconds between two memory samples of the soak. */
const SOAK_SAMPLE_S = 10;

function positiveNumber(name: string, fallback: number, allowZero = false): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || (n === 0 && !allowZero)) throw new Error(`invalid ${name}: ${raw}`);
  return n;
}

/** `--json FILE` (or `--json=FILE`) on the command line. */
function jsonFileArgument(argv: readonly string[]): string | undefined {
  const index = argv.findIndex((arg) => arg === "--json" || arg.startsWith("--json="));
  if (index === -1) return undefined;
  const file = argv[index]?.includes("=") ? argv[index]?.slice("--json=".length) : argv[index + 1];
  if (!file || file.startsWith("--")) throw new Error("--json needs a file name: npm run bench -- --json FILE");
  return file;
}

async function readConfig(): Promise<Config> {
  const argv = process.argv.slice(2);
  const soakS = argv.includes("--soak") ? positiveNumber("BENCH_SOAK_S", 180) : undefined;
  const workers = Math.floor(positiveNumber("WEB_CONCURRENCY", availableParallelism()));
  const customCmd = process.env.BENCH_PRODUCT_CMD?.trim();
  const services = await resolveBenchServices();
  const stripe = await startBenchStripe();
  const skipped: Config["skipped"] = [];
  const selected = soakS === undefined ? selectScenarios(process.env.BENCH_SCENARIOS) : scenarios.filter((s) => s.name === SOAK_SCENARIO);
  const runnable = selected.filter((scenario) => {
    const reason = scenario.unavailable?.({ databaseUrl: services.databaseUrl });
    if (reason !== undefined) skipped.push({ scenario, reason });
    return reason === undefined;
  });
  const productEnv = {
    ...process.env,
    ...stripe.env,
    ...(services.databaseUrl ? { DATABASE_URL: services.databaseUrl } : {}),
    ...(services.redisUrl ? { REDIS_URL: services.redisUrl, REDIS_KEY_PREFIX: services.redisKeyPrefix } : {}),
    NODE_ENV: "production",
    SESSION_SECRET: randomBytes(32).toString("hex"),
    TICKET_SIGNING_KEY: randomBytes(32).toString("hex"),
    // Secure session cookies over the bench's plain HTTP: see the header comment.
    TRUST_PROXY: "loopback",
    LOG_LEVEL: "warn",
    WEB_CONCURRENCY: String(workers),
    RATE_LIMIT_MULTIPLIER: RATE_LIMITS_COUNT_ONLY,
    // The soak reads each process's heap from /api/metrics.
    OPS_TOKEN: randomBytes(24).toString("hex"),
  };
  const { plan } = loadConfig(productEnv);
  return {
    workers,
    connections: Math.floor(positiveNumber("BENCH_CONNECTIONS", 100)),
    durationS: positiveNumber("BENCH_DURATION", 10),
    warmupS: positiveNumber("BENCH_WARMUP", 2, true),
    rounds: Math.max(1, Math.floor(positiveNumber("BENCH_ROUNDS", 1))),
    soakS,
    scaleFigures: argv.includes("--scale-figures"),
    scenarios: runnable,
    // The bundle, as `npm start` runs it (built in main() before the run).
    productCmd: customCmd ? customCmd.split(/\s+/) : [process.execPath, "dist/server/entry/primary.js"],
    services,
    stripe,
    productEnv,
    productPoolMax: plan.webWorkers * plan.poolMaxPerProcess,
    statementTimeoutMs: plan.dbStatementTimeoutMs,
    skipped,
    jsonFile: jsonFileArgument(argv),
  };
}

function sessionStore(services: BenchServices): string {
  if (services.redisUrl) return "Redis";
  return services.databaseUrl ? "Postgres (local mode, no Redis)" : "embedded Postgres (local mode, no Redis)";
}

async function startBaseline(config: Config): Promise<RunningProcess> {
  const port = await freePort();
  // NODE_ENV=production on both sides: Express changes behaviour with it.
  const env = { ...process.env, PORT: String(port), NODE_ENV: "production", BENCH_WORKERS: String(config.workers) };
  const cmd = [process.execPath, "--import", "tsx", "bench/baseline.ts"];
  return startProcess(cmd, env, `http://127.0.0.1:${port}/api/health/live`, { cwd: ROOT });
}

async function startProduct(config: Config): Promise<RunningProcess> {
  const port = await freePort();
  const env = { ...config.productEnv, PORT: String(port) };
  return startProcess(config.productCmd, env, `http://127.0.0.1:${port}/api/health/live`, { cwd: ROOT });
}

/** Starts both targets; if either fails the other is stopped and the error rethrown. */
async function startTargets(config: Config): Promise<Record<HttpTarget, RunningProcess>> {
  const [baseline, product] = await Promise.allSettled([startBaseline(config), startProduct(config)]);
  if (baseline.status === "fulfilled" && product.status === "fulfilled") {
    return { baseline: baseline.value, product: product.value };
  }
  await stopAll();
  const failures = [
    baseline.status === "rejected" ? `baseline failed to start: ${errorMessage(baseline.reason)}` : "",
    product.status === "rejected" ? `product failed to start: ${errorMessage(product.reason)}` : "",
  ];
  throw new StartError(failures.filter((f) => f !== "").join("\n\n"));
}

class StartError extends Error {}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The setup's load for the product; the baseline always gets a plain GET on its own path. */
async function loadFor(
  target: HttpTarget,
  server: RunningProcess,
  scenario: Scenario,
  config: Config,
  warmupS: number,
): Promise<ScenarioLoad> {
  if (target === "baseline" || !scenario.setup) return {};
  const context: SetupContext = {
    baseUrl: server.url,
    databaseUrl: config.services.databaseUrl,
    ticketSigningKey: config.productEnv.TICKET_SIGNING_KEY!,
    sessionStore: sessionStore(config.services),
    connections: connectionsOf(scenario, config),
    durationS: config.soakS ?? config.durationS,
    warmupS,
    budget,
    stripe: config.stripe,
  };
  try {
    return await scenario.setup(context);
  } catch (error) {
    throw new Error(`setup of "${scenario.name}" failed: ${errorMessage(error)}\n--- product's last output ---\n${server.outputTail()}`, {
      cause: error,
    });
  }
}

const connectionsOf = (scenario: Scenario, config: Config) => scenario.connections ?? config.connections;

/** What one request of the load is: the setup's own, or the scenario's fixed request (the baseline's path for it). */
function nextRequest(target: HttpTarget, scenario: Scenario, load: ScenarioLoad): () => LoadRequest {
  if (load.next) return load.next;
  const request: LoadRequest =
    target === "baseline"
      ? { class: "baseline", method: "GET", path: scenario.baselinePath }
      : { class: "request", method: scenario.method, path: load.path ?? scenario.path };
  return () => request;
}

/** The statuses each class should get, and all of them together. */
function acceptance(target: HttpTarget, scenario: Scenario, load: ScenarioLoad) {
  const overall = target === "baseline" ? [200] : (scenario.accept ?? [200]);
  const byClass = (cls: string) => load.accept?.[cls] ?? overall;
  const all = new Set([...overall, ...Object.values(load.accept ?? {}).flat()]);
  return { byClass, all };
}

function classFigures(result: LoadResult, byClass: (cls: string) => readonly number[]): ClassFigures[] {
  return Object.entries(result.timings).map(([cls, byStatus]) => {
    const admitted = mergeBuckets(...Object.entries(byStatus).flatMap(([status, buckets]) => (status.startsWith("2") ? [buckets] : [])));
    const statuses = Object.fromEntries(Object.entries(byStatus).map(([status, buckets]) => [status, countOf(buckets)]));
    const answers = countOf(mergeBuckets(...Object.values(byStatus)));
    const accepted = byClass(cls);
    return {
      class: cls,
      answers,
      statuses,
      p50Ms: percentile(admitted, 50),
      p99Ms: percentile(admitted, 99),
      unexpected: Object.entries(statuses).reduce((sum, [status, n]) => sum + (accepted.includes(Number(status)) ? 0 : n), 0),
    };
  });
}

async function measure(
  target: HttpTarget,
  server: RunningProcess,
  scenario: Scenario,
  config: Config,
  warm: boolean,
): Promise<Measurement[]> {
  const warmupS = warm ? config.warmupS : 0;
  const load = await loadFor(target, server, scenario, config, warmupS);
  const connections = connectionsOf(scenario, config);
  const spec = {
    url: server.url,
    headers: load.headers ?? {},
    next: nextRequest(target, scenario, load),
    varies: load.next !== undefined,
    connections,
  };
  const { databaseUrl } = config.services;
  // Round trips per request, before the warm-up (the one-time requests they take are then not among the load's).
  const transactions =
    target === "product" && load.dbCeiling && databaseUrl
      ? {
          product: await productTransactions(databaseUrl, () => send(server.url, spec.headers, spec.next())),
          ceiling: await ceilingTransactions(load.dbCeiling, { databaseUrl, statementTimeoutMs: config.statementTimeoutMs }),
        }
      : undefined;
  // Unmeasured warm-up so JIT and connection setup don't count against whichever target goes first.
  if (warmupS > 0) await runLoad({ ...spec, durationS: warmupS });
  const { result, cpuUsPerRequest } = await cpuPerRequest(server.pid, () => runLoad({ ...spec, durationS: config.durationS }));
  if (!server.isRunning()) {
    throw new Error(`${target} exited during "${scenario.name}"\n--- last output ---\n${server.outputTail()}`);
  }
  const { byClass, all } = acceptance(target, scenario, load);
  const admitted = mergeBuckets(
    ...Object.values(result.timings).flatMap((byStatus) =>
      Object.entries(byStatus)
        .filter(([s]) => s.startsWith("2"))
        .map(([, b]) => b),
    ),
  );
  const notes = load.notes ? await load.notes() : [];
  if (result.prepared !== undefined && result.requests > result.prepared) {
    notes.push(
      `${result.requests.toLocaleString("en-US")} requests sent from ${result.prepared.toLocaleString("en-US")} prepared: some were sent twice`,
    );
  }
  const measured: Measurement = {
    scenario: scenario.name,
    target,
    generator,
    connections,
    reqPerSec: result.reqPerSec,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    p99AdmittedMs: percentile(admitted, 99),
    non2xx: Object.entries(result.statuses).reduce((sum, [status, n]) => sum + (status.startsWith("2") ? 0 : n), 0),
    errors: result.errors,
    unexpected: Object.entries(result.statuses).reduce((sum, [status, n]) => sum + (all.has(Number(status)) ? 0 : n), 0),
    statuses: result.statuses,
    // One class is the whole row: its figures say nothing more.
    classes: Object.keys(result.timings).length > 1 ? classFigures(result, byClass) : [],
    transactionsPerRequest: transactions?.product,
    cpuUsPerRequest,
    notes,
  };
  if (!load.dbCeiling || !databaseUrl) return [measured];
  return [
    measured,
    await ceiling(scenario, load.dbCeiling, config, databaseUrl, { connections, warmupS, transactions: transactions?.ceiling }),
  ];
}

/** One request, its answer read to the end. */
async function send(origin: string, headers: Record<string, string>, request: LoadRequest): Promise<void> {
  const response = await fetch(origin + request.path, {
    method: request.method,
    headers: { ...headers, ...request.headers },
    body: request.body,
  });
  await response.arrayBuffer();
}

/** The scenario's database work straight on a pool as large as the product's, at the load's concurrency. */
async function ceiling(
  scenario: Scenario,
  work: DbWork,
  config: Config,
  databaseUrl: string,
  { connections, warmupS, transactions }: { connections: number; warmupS: number; transactions: number | undefined },
): Promise<Measurement> {
  console.error(`    ${scenario.name} -> database ceiling`);
  const result = await measureDbCeiling(work, {
    databaseUrl,
    concurrency: connections,
    poolMax: config.productPoolMax,
    statementTimeoutMs: config.statementTimeoutMs,
    durationS: config.durationS,
    warmupS,
  });
  return {
    scenario: scenario.name,
    target: "database",
    generator: "pg",
    connections,
    reqPerSec: result.reqPerSec,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    p99AdmittedMs: undefined,
    non2xx: 0,
    errors: result.errors,
    unexpected: 0,
    statuses: {},
    classes: [],
    transactionsPerRequest: transactions,
    cpuUsPerRequest: undefined,
    notes: [
      `database ceiling: ${work.calls} on a pg pool of ${config.productPoolMax} (the product's web pools together), ${connections} at once`,
    ],
  };
}

async function runScenarios(config: Config, servers: Record<HttpTarget, RunningProcess>): Promise<Measurement[]> {
  const results: Measurement[] = [];
  const total = config.scenarios.length * 2 * config.rounds;
  let step = 0;
  for (const scenario of config.scenarios) {
    const runs: Measurement[][] = [];
    // Baseline and product back to back (and alternating across rounds), so drift
    // in machine load hits both alike.
    for (let round = 0; round < config.rounds; round++) {
      for (const target of ["baseline", "product"] as const) {
        console.error(`[${++step}/${total}] ${scenario.name} -> ${target}`);
        runs.push(await measure(target, servers[target], scenario, config, round === 0));
      }
    }
    for (const target of ["baseline", "product", "database"] as const) {
      const rows = runs.flat().filter((m) => m.target === target);
      if (rows.length > 0) results.push(median(rows));
    }
  }
  return results;
}

/** Per-metric median across rounds (errors and unexpected answers are summed: any of them matters). */
function median(runs: Measurement[]): Measurement {
  const first = runs[0];
  if (first === undefined) throw new Error("median of no runs");
  const mid = (pick: (m: Measurement) => number): number => {
    const sorted = runs.map(pick).sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)] ?? 0;
  };
  const sum = (pick: (m: Measurement) => number): number => runs.reduce((acc, m) => acc + pick(m), 0);
  return {
    ...first,
    reqPerSec: mid((m) => m.reqPerSec),
    p50Ms: mid((m) => m.p50Ms),
    p99Ms: mid((m) => m.p99Ms),
    p99AdmittedMs: first.p99AdmittedMs === undefined ? undefined : mid((m) => m.p99AdmittedMs ?? 0),
    non2xx: sum((m) => m.non2xx),
    errors: sum((m) => m.errors),
    unexpected: sum((m) => m.unexpected),
    statuses: sumStatuses(runs),
    notes: [...new Set(runs.flatMap((m) => m.notes))],
  };
}

function sumStatuses(runs: Measurement[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const run of runs) for (const [status, n] of Object.entries(run.statuses)) total[status] = (total[status] ?? 0) + n;
  return total;
}

function printParameters(config: Config): void {
  const cpu = cpus()[0]?.model ?? "unknown";
  console.log("Parameters");
  console.log(`  node ${process.version}, ${availableParallelism()} cpus (${cpu})`);
  console.log(`  load generator: ${generator === "wrk" ? "wrk (one thread)" : "autocannon (wrk is not installed: apt-get install wrk)"}`);
  console.log(`  workers per target: ${config.workers}`);
  console.log(
    `  connections: ${config.connections}, duration: ${config.soakS ?? config.durationS}s, warm-up: ${config.warmupS}s, rounds: ${config.rounds}`,
  );
  console.log(`  product: ${config.productCmd.join(" ")}, RATE_LIMIT_MULTIPLIER=${config.productEnv.RATE_LIMIT_MULTIPLIER}`);
  console.log(
    `  product data: ${config.services.databaseUrl ? "Postgres at DATABASE_URL or 127.0.0.1" : "embedded Postgres"}, sessions in ${sessionStore(config.services)}`,
  );
  console.log(`  database ceilings: a pg pool of ${config.productPoolMax} (the product's web workers × pool max per process)`);
  console.log(
    "  product behind a simulated TLS proxy (Secure session cookie): TRUST_PROXY=loopback, signed-in requests carry X-Forwarded-Proto: https",
  );
  console.log(`  scenarios: ${config.scenarios.map((s) => s.name).join(", ")}`);
  for (const { scenario, reason } of config.skipped) console.log(`  skipped: ${scenario.name}: ${reason}`);
}

function parametersOf(config: Config): Record<string, unknown> {
  return {
    node: process.version,
    cpus: availableParallelism(),
    generator,
    workers: config.workers,
    connections: config.connections,
    durationS: config.soakS ?? config.durationS,
    warmupS: config.warmupS,
    rounds: config.rounds,
    sessions: sessionStore(config.services),
    dbCeilingPool: config.productPoolMax,
    skipped: config.skipped.map(({ scenario, reason }) => ({ scenario: scenario.name, reason })),
  };
}

/** Report sections run after all servers are stopped, so each gets the CPUs to itself. */
function extraSections(config: Config, figures: Record<string, unknown>): ExtraSection[] {
  const { databaseUrl } = config.services;
  if (!databaseUrl) {
    console.log("\n(database drivers section skipped: no DATABASE_URL and no Postgres at 127.0.0.1:5432)");
    return [];
  }
  return [
    {
      title: "Database drivers (same query, same database, one run)",
      run: async () => {
        const { benchDbDrivers, printDriverTable } = await import("./db-drivers.ts");
        const drivers = await benchDbDrivers(databaseUrl);
        printDriverTable(drivers);
        figures.databaseDrivers = drivers;
      },
    },
  ];
}

/** A failing section is reported but doesn't hide the others or the main table. */
async function printExtraSections(config: Config, figures: Record<string, unknown>): Promise<boolean> {
  let ok = true;
  for (const section of extraSections(config, figures)) {
    console.log(`\n${section.title}`);
    try {
      await section.run();
    } catch (error) {
      console.error(`${section.title} failed:`, error);
      ok = false;
    }
  }
  return ok;
}

/** Ctrl-C / SIGTERM: our children live in their own process groups, so the terminal won't signal them for us. */
function stopOnSignals(release: () => Promise<void>): void {
  let stopping = false;
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      console.error(`\n${signal}: stopping servers...`);
      void stopAll()
        .then(release)
        .finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
    });
  }
}

async function main(): Promise<number> {
  const config = await readConfig();
  const release = async () => {
    await config.stripe.fake.close();
    await config.services.release();
  };
  stopOnSignals(release);
  try {
    return await benchmark(config);
  } finally {
    await release();
  }
}

/** `--soak`: the mixed peak against the product alone, for soakS, sampling the memory of its processes. */
async function soak(config: Config): Promise<number> {
  const scenario = config.scenarios[0];
  if (!scenario || config.soakS === undefined) throw new Error(`--soak needs the "${SOAK_SCENARIO}" scenario and its database`);
  printParameters(config);
  await buildServer();
  const product = await startProduct(config);
  try {
    const load = await loadFor("product", product, scenario, config, 0);
    const rss = sampleMemory(groupRss(product.pid), SOAK_SAMPLE_S);
    const heap = sampleMemory(instanceHeap(product.url, config.productEnv.OPS_TOKEN!, "nodejs_heap_size_used_bytes"), SOAK_SAMPLE_S);
    const live = sampleMemory(instanceHeap(product.url, config.productEnv.OPS_TOKEN!, "nodejs_heap_live_bytes"), SOAK_SAMPLE_S);
    console.error(`soak: ${scenario.name} for ${config.soakS} s, memory sampled every ${SOAK_SAMPLE_S} s`);
    const result = await runLoad({
      url: product.url,
      headers: load.headers ?? {},
      next: nextRequest("product", scenario, load),
      varies: true,
      connections: config.connections,
      durationS: config.soakS,
    });
    const memory = { rss: await rss.stop(), heapUsed: await heap.stop(), heapLive: await live.stop() };
    if (!product.isRunning()) throw new Error(`the product exited during the soak\n--- last output ---\n${product.outputTail()}`);
    console.log(
      `\nSoak: ${Math.round(result.reqPerSec).toLocaleString("en-US")} req/s, p50 ${result.p50Ms.toFixed(1)} ms, p99 ${result.p99Ms.toFixed(1)} ms, ${result.errors} errors`,
    );
    console.log(
      `  answers: ${Object.entries(result.statuses)
        .map(([status, n]) => `${status} × ${n.toLocaleString("en-US")}`)
        .join(", ")}`,
    );
    if (result.prepared !== undefined && result.requests > result.prepared) {
      console.log(
        `  ${result.prepared.toLocaleString("en-US")} requests prepared for ${result.requests.toLocaleString("en-US")} sent: scans repeat (200, not 201), webhooks are redelivered`,
      );
    }
    printMemory("RSS per process", memory.rss);
    printMemory("V8 heap in use per process, from /api/metrics", memory.heapUsed);
    printMemory("V8 heap alive after the last full collection, per process, from /api/metrics", memory.heapLive);
    if (config.jsonFile) await writeJson(config.jsonFile, parametersOf(config), [], { soak: { result, memory } });
    return 0;
  } finally {
    await stopAll();
  }
}

function printMemory(title: string, processes: readonly ProcessMemory[]): void {
  console.log(`\n${title} (MiB; slope by least squares after the first minute)`);
  for (const p of processes) {
    console.log(
      `  pid ${p.pid}  first ${p.firstMiB.toFixed(1)}  last ${p.lastMiB.toFixed(1)}  max ${p.maxMiB.toFixed(1)}  ` +
        `slope ${p.slopeMiBPerMin >= 0 ? "+" : ""}${p.slopeMiBPerMin.toFixed(2)} MiB/min  ` +
        `floor per minute ${p.floorPerMinuteMiB.map((floor) => floor.toFixed(1)).join(", ")}  (${p.samples} samples)  ${p.command.slice(0, 60)}`,
    );
  }
}

async function benchmark(config: Config): Promise<number> {
  if (config.soakS !== undefined) return soak(config);
  if (config.scaleFigures) {
    await buildServer();
    return scaleFigures({
      productCmd: config.productCmd,
      productEnv: config.productEnv,
      services: config.services,
      stripe: config.stripe,
      cwd: ROOT,
    });
  }
  if (config.scenarios.length === 0) throw new Error(`no scenario matches BENCH_SCENARIOS=${process.env.BENCH_SCENARIOS}`);
  printParameters(config);
  await buildServer();
  const servers = await startTargets(config);
  let results: Measurement[];
  try {
    results = await runScenarios(config, servers);
  } finally {
    await stopAll();
  }
  printTable(results);
  const answersOk = printNotesAndChecks(results);
  const extra: Record<string, unknown> = {};
  const sectionsOk = await printExtraSections(config, extra);
  if (config.jsonFile) await writeJson(config.jsonFile, parametersOf(config), results, { databaseDrivers: extra.databaseDrivers ?? null });
  return answersOk && sectionsOk ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  async (error: unknown) => {
    console.error(error instanceof StartError ? error.message : error);
    await stopAll();
    process.exit(1);
  },
);
