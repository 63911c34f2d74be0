// `npm run bench`: load-test the product against a bare Express cluster started in
// the same run, and report product/baseline ratios (absolute numbers depend on the
// machine and on autocannon sharing its CPUs, ratios much less).
//
// Env: WEB_CONCURRENCY (workers, both targets), BENCH_CONNECTIONS (100),
// BENCH_DURATION (s, 10), BENCH_WARMUP (s, 2; 0 disables), BENCH_ROUNDS (1; >1
// alternates baseline/product that many times and reports medians), BENCH_SCENARIOS
// (comma-separated name substrings), BENCH_PRODUCT_CMD (replaces the product
// command, whitespace-split; e.g. "node --import tsx bench/baseline.ts").
import { randomBytes } from "node:crypto";
import { availableParallelism, cpus } from "node:os";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { freePort } from "../server/infra/free-port.ts";
import { startProcess, stopAll, type RunningProcess } from "./cluster.ts";
import { selectScenarios, type Scenario, type ScenarioLoad } from "./scenarios.ts";
import { resolveBenchServices, type BenchServices } from "./services.ts";
import { buildServer } from "../server/build.ts";

type TargetName = "baseline" | "product";

interface Config {
  workers: number;
  connections: number;
  durationS: number;
  warmupS: number;
  rounds: number;
  scenarios: Scenario[];
  productCmd: string[];
  services: BenchServices;
}

interface Measurement {
  scenario: string;
  target: TargetName;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

/** A report section printed after the servers are stopped, so it gets the CPUs to itself. */
interface ExtraSection {
  title: string;
  run: () => Promise<void>;
}

const ROOT = fileURLToPath(new URL("..", import.meta.url));

function positiveNumber(name: string, fallback: number, allowZero = false): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || (n === 0 && !allowZero)) throw new Error(`invalid ${name}: ${raw}`);
  return n;
}

async function readConfig(): Promise<Config> {
  const workers = positiveNumber("WEB_CONCURRENCY", availableParallelism());
  const customCmd = process.env.BENCH_PRODUCT_CMD?.trim();
  return {
    workers: Math.floor(workers),
    connections: Math.floor(positiveNumber("BENCH_CONNECTIONS", 100)),
    durationS: positiveNumber("BENCH_DURATION", 10),
    warmupS: positiveNumber("BENCH_WARMUP", 2, true),
    rounds: Math.max(1, Math.floor(positiveNumber("BENCH_ROUNDS", 1))),
    scenarios: selectScenarios(process.env.BENCH_SCENARIOS),
    // The bundle, as `npm start` runs it (built in main() before the run).
    productCmd: customCmd ? customCmd.split(/\s+/) : [process.execPath, "dist/server/entry/primary.js"],
    services: await resolveBenchServices(),
  };
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
  const env = {
    ...process.env,
    ...(config.services.databaseUrl ? { DATABASE_URL: config.services.databaseUrl } : {}),
    ...(config.services.redisUrl ? { REDIS_URL: config.services.redisUrl } : {}),
    PORT: String(port),
    NODE_ENV: "production",
    SESSION_SECRET: randomBytes(32).toString("hex"),
    TICKET_SIGNING_KEY: randomBytes(32).toString("hex"),
    LOG_LEVEL: "warn",
    WEB_CONCURRENCY: String(config.workers),
  };
  return startProcess(config.productCmd, env, `http://127.0.0.1:${port}/api/health/live`, { cwd: ROOT });
}

/** Starts both targets; if either fails the other is stopped and the error rethrown. */
async function startTargets(config: Config): Promise<Record<TargetName, RunningProcess>> {
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

function autocannonOptions(url: string, method: Scenario["method"], load: ScenarioLoad, config: Config): autocannon.Options {
  return {
    url,
    method,
    connections: config.connections,
    duration: config.durationS,
    ...load,
  };
}

/**
 * The baseline always gets a plain GET on its own path; the product gets the
 * scenario, prepared by its setup.
 */
async function optionsFor(target: TargetName, server: RunningProcess, scenario: Scenario, config: Config): Promise<autocannon.Options> {
  if (target === "baseline") return autocannonOptions(server.url + scenario.baselinePath, "GET", {}, config);
  const load = scenario.setup ? await scenario.setup(server.url) : {};
  return autocannonOptions(server.url + scenario.path, scenario.method, load, config);
}

async function measure(
  target: TargetName,
  server: RunningProcess,
  scenario: Scenario,
  config: Config,
  warm: boolean,
): Promise<Measurement> {
  const options = await optionsFor(target, server, scenario, config);
  // Unmeasured warm-up so JIT and connection setup don't count against whichever target goes first.
  if (warm && config.warmupS > 0) await autocannon({ ...options, duration: config.warmupS });
  const result = await autocannon(options);
  if (!server.isRunning()) {
    throw new Error(`${target} exited during "${scenario.name}"\n--- last output ---\n${server.outputTail()}`);
  }
  return {
    scenario: scenario.name,
    target,
    reqPerSec: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

async function runScenarios(config: Config, servers: Record<TargetName, RunningProcess>): Promise<Measurement[]> {
  const results: Measurement[] = [];
  const total = config.scenarios.length * 2 * config.rounds;
  let step = 0;
  for (const scenario of config.scenarios) {
    const runs: Record<TargetName, Measurement[]> = { baseline: [], product: [] };
    // Baseline and product back to back (and alternating across rounds), so drift
    // in machine load hits both alike.
    for (let round = 0; round < config.rounds; round++) {
      for (const target of ["baseline", "product"] as const) {
        console.error(`[${++step}/${total}] ${scenario.name} -> ${target}`);
        runs[target].push(await measure(target, servers[target], scenario, config, round === 0));
      }
    }
    results.push(median(runs.baseline), median(runs.product));
  }
  return results;
}

/** Per-metric median across rounds (errors are summed: any error matters). */
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
    non2xx: sum((m) => m.non2xx),
    errors: sum((m) => m.errors),
  };
}

function printParameters(config: Config): void {
  const cpu = cpus()[0]?.model ?? "unknown";
  console.log("Parameters");
  console.log(`  node ${process.version}, ${availableParallelism()} cpus (${cpu})`);
  console.log(`  workers per target: ${config.workers}`);
  console.log(
    `  connections: ${config.connections}, duration: ${config.durationS}s, warm-up: ${config.warmupS}s, rounds: ${config.rounds}`,
  );
  console.log(`  product: ${config.productCmd.join(" ")}`);
  console.log(
    `  product data: ${config.services.databaseUrl ? "Postgres at DATABASE_URL or 127.0.0.1" : "embedded Postgres"}, ${config.services.redisUrl ? "sessions in Redis" : "local mode (no Redis)"}`,
  );
  console.log(`  scenarios: ${config.scenarios.map((s) => s.name).join(", ")}`);
}

function formatRow(m: Measurement, baseline: Measurement | undefined): string[] {
  const ratio = m.target === "product" && baseline && baseline.reqPerSec > 0 ? `${(m.reqPerSec / baseline.reqPerSec).toFixed(2)}x` : "";
  return [
    m.scenario,
    m.target,
    Math.round(m.reqPerSec).toLocaleString("en-US"),
    m.p50Ms.toFixed(1),
    m.p99Ms.toFixed(1),
    String(m.non2xx),
    String(m.errors),
    ratio,
  ];
}

function printTable(results: Measurement[]): void {
  const header = ["scenario", "target", "req/s", "p50 ms", "p99 ms", "non-2xx", "errors", "product/baseline"];
  const rows = results.map((m) =>
    formatRow(
      m,
      results.find((b) => b.scenario === m.scenario && b.target === "baseline"),
    ),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  // Text columns left-aligned, numbers right-aligned.
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  console.log(`\n${line(header)}\n${widths.map((w) => "-".repeat(w)).join("  ")}`);
  for (const row of rows) console.log(line(row));
}

/** Report sections run after all servers are stopped, so each gets the CPUs to itself. */
function extraSections(config: Config): ExtraSection[] {
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
        printDriverTable(await benchDbDrivers(databaseUrl));
      },
    },
  ];
}

/** A failing section is reported but doesn't hide the others or the main table. */
async function printExtraSections(config: Config): Promise<boolean> {
  let ok = true;
  for (const section of extraSections(config)) {
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
function stopOnSignals(): void {
  let stopping = false;
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      console.error(`\n${signal}: stopping servers...`);
      void stopAll().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
    });
  }
}

async function main(): Promise<number> {
  stopOnSignals();
  const config = await readConfig();
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
  return (await printExtraSections(config)) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  async (error: unknown) => {
    console.error(error instanceof StartError ? error.message : error);
    await stopAll();
    process.exit(1);
  },
);
