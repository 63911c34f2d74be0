// `npm run bench`: load-test the product against a bare Express cluster started in
// the same run, and report product/baseline ratios (absolute numbers depend on the
// machine and on autocannon sharing its CPUs, ratios much less).
// `npm run bench -- --json FILE` also writes the parameters and figures to FILE.
//
// Env: WEB_CONCURRENCY (workers, both targets), BENCH_CONNECTIONS (100),
// BENCH_DURATION (s, 10), BENCH_WARMUP (s, 2; 0 disables), BENCH_ROUNDS (1; >1
// alternates baseline/product that many times and reports medians), BENCH_SCENARIOS
// (comma-separated name substrings), BENCH_PRODUCT_CMD (replaces the product
// command, whitespace-split; e.g. "node --import tsx bench/baseline.ts").
//
// The product runs in production mode, so its session cookie is Secure: it gets
// TRUST_PROXY=loopback and the bench sends X-Forwarded-Proto: https, as the
// TLS-terminating proxy in front of a deployment does (bench/fixtures.ts).
// A scenario's setup failing stops the run; answers with another status than the
// scenario expects are counted, and more than 1% of them fail the run.
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { availableParallelism, cpus } from "node:os";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { freePort } from "../server/infra/free-port.ts";
import { startProcess, stopAll, type RunningProcess } from "./cluster.ts";
import { selectScenarios, type Scenario, type ScenarioLoad, type SetupContext } from "./scenarios.ts";
import { resolveBenchServices, type BenchServices } from "./services.ts";
import { startBenchStripe, type BenchStripe } from "./stripe.ts";
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
  /** The Stripe the product talks to (a test double in this process), for the webhook scenario. */
  stripe: BenchStripe;
  /** The product's TICKET_SIGNING_KEY, one per run: scenarios sign ticket codes with it. */
  ticketSigningKey: string;
  /** Selected scenarios that cannot run here, with the reason. */
  skipped: Array<{ scenario: Scenario; reason: string }>;
  /** Where `--json FILE` asks the figures to be written. */
  jsonFile: string | undefined;
}

interface Measurement {
  scenario: string;
  target: TargetName;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  /** Answers whose status is not the scenario's expected one (all 200 for the baseline). */
  unexpected: number;
  /** Answers per status code, e.g. { "201": 4210 }. */
  statuses: Record<string, number>;
  /** From the scenario's setup, read after the measured run. */
  notes: string[];
}

/** Share of unexpected answers above which a row is measuring something else than its scenario. */
const MAX_UNEXPECTED_SHARE = 0.01;

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

/** `--json FILE` (or `--json=FILE`) on the command line. */
function jsonFileArgument(argv: readonly string[]): string | undefined {
  const index = argv.findIndex((arg) => arg === "--json" || arg.startsWith("--json="));
  if (index === -1) return undefined;
  const file = argv[index]?.includes("=") ? argv[index]?.slice("--json=".length) : argv[index + 1];
  if (!file || file.startsWith("--")) throw new Error("--json needs a file name: npm run bench -- --json FILE");
  return file;
}

async function readConfig(): Promise<Config> {
  const jsonFile = jsonFileArgument(process.argv.slice(2));
  const workers = positiveNumber("WEB_CONCURRENCY", availableParallelism());
  const customCmd = process.env.BENCH_PRODUCT_CMD?.trim();
  const services = await resolveBenchServices();
  const skipped: Config["skipped"] = [];
  const scenarios = selectScenarios(process.env.BENCH_SCENARIOS).filter((scenario) => {
    const reason = scenario.unavailable?.({ databaseUrl: services.databaseUrl });
    if (reason !== undefined) skipped.push({ scenario, reason });
    return reason === undefined;
  });
  return {
    workers: Math.floor(workers),
    connections: Math.floor(positiveNumber("BENCH_CONNECTIONS", 100)),
    durationS: positiveNumber("BENCH_DURATION", 10),
    warmupS: positiveNumber("BENCH_WARMUP", 2, true),
    rounds: Math.max(1, Math.floor(positiveNumber("BENCH_ROUNDS", 1))),
    scenarios,
    // The bundle, as `npm start` runs it (built in main() before the run).
    productCmd: customCmd ? customCmd.split(/\s+/) : [process.execPath, "dist/server/entry/primary.js"],
    services,
    stripe: await startBenchStripe(),
    ticketSigningKey: randomBytes(32).toString("hex"),
    skipped,
    jsonFile,
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
  const env = {
    ...process.env,
    ...config.stripe.env,
    ...(config.services.databaseUrl ? { DATABASE_URL: config.services.databaseUrl } : {}),
    ...(config.services.redisUrl ? { REDIS_URL: config.services.redisUrl } : {}),
    PORT: String(port),
    NODE_ENV: "production",
    SESSION_SECRET: randomBytes(32).toString("hex"),
    TICKET_SIGNING_KEY: config.ticketSigningKey,
    // Secure session cookies over the bench's plain HTTP: see the header comment.
    TRUST_PROXY: "loopback",
    LOG_LEVEL: "warn",
    WEB_CONCURRENCY: String(config.workers),
    // Every request is counted against its rate limits, as in production, and none is ever refused.
    RATE_LIMIT_MULTIPLIER: "100000",
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
async function loadFor(
  target: TargetName,
  server: RunningProcess,
  scenario: Scenario,
  config: Config,
  warm: boolean,
): Promise<ScenarioLoad> {
  if (target === "baseline" || !scenario.setup) return {};
  const context: SetupContext = {
    baseUrl: server.url,
    databaseUrl: config.services.databaseUrl,
    ticketSigningKey: config.ticketSigningKey,
    sessionStore: sessionStore(config.services),
    connections: config.connections,
    durationS: config.durationS,
    warmupS: warm ? config.warmupS : 0,
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

function optionsFor(
  target: TargetName,
  server: RunningProcess,
  scenario: Scenario,
  load: ScenarioLoad,
  config: Config,
): autocannon.Options {
  if (target === "baseline") return autocannonOptions(server.url + scenario.baselinePath, "GET", {}, config);
  const { path, notes: _notes, ...autocannonLoad } = load;
  return autocannonOptions(server.url + (path ?? scenario.path), scenario.method, autocannonLoad, config);
}

async function measure(
  target: TargetName,
  server: RunningProcess,
  scenario: Scenario,
  config: Config,
  warm: boolean,
): Promise<Measurement> {
  const load = await loadFor(target, server, scenario, config, warm);
  const options = optionsFor(target, server, scenario, load, config);
  // Unmeasured warm-up so JIT and connection setup don't count against whichever target goes first.
  if (warm && config.warmupS > 0) await autocannon({ ...options, duration: config.warmupS });
  const result = await autocannon(options);
  if (!server.isRunning()) {
    throw new Error(`${target} exited during "${scenario.name}"\n--- last output ---\n${server.outputTail()}`);
  }
  const expected = String(target === "baseline" ? 200 : (scenario.expectStatus ?? 200));
  const statuses = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([status, stat]) => [status, stat.count ?? 0]));
  const answered = Object.values(statuses).reduce((sum, n) => sum + n, 0);
  return {
    scenario: scenario.name,
    target,
    reqPerSec: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    unexpected: answered - (statuses[expected] ?? 0),
    statuses,
    notes: load.notes ? await load.notes() : [],
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
  console.log(`  workers per target: ${config.workers}`);
  console.log(
    `  connections: ${config.connections}, duration: ${config.durationS}s, warm-up: ${config.warmupS}s, rounds: ${config.rounds}`,
  );
  console.log(`  product: ${config.productCmd.join(" ")}`);
  console.log(
    `  product data: ${config.services.databaseUrl ? "Postgres at DATABASE_URL or 127.0.0.1" : "embedded Postgres"}, sessions in ${sessionStore(config.services)}`,
  );
  console.log(
    "  product behind a simulated TLS proxy (Secure session cookie): TRUST_PROXY=loopback, signed-in requests carry X-Forwarded-Proto: https",
  );
  console.log(`  scenarios: ${config.scenarios.map((s) => s.name).join(", ")}`);
  for (const { scenario, reason } of config.skipped) console.log(`  skipped: ${scenario.name}: ${reason}`);
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

/**
 * Scenario notes, and a loud line for every row whose answers are not what the
 * scenario measures. False when a row is off by more than MAX_UNEXPECTED_SHARE.
 */
function printNotesAndChecks(results: Measurement[]): boolean {
  let ok = true;
  const lines: string[] = [];
  for (const m of results) {
    for (const note of m.notes) lines.push(`  ${m.scenario}: ${note}`);
    const answered = Object.values(m.statuses).reduce((sum, n) => sum + n, 0);
    const statuses = Object.entries(m.statuses)
      .map(([status, n]) => `${status} × ${n.toLocaleString("en-US")}`)
      .join(", ");
    if (m.target === "product" && m.unexpected === 0) lines.push(`  ${m.scenario}: product answered ${statuses || "nothing"}`);
    if (m.unexpected > 0 || answered === 0) {
      const share = answered === 0 ? 1 : m.unexpected / answered;
      const wrong = share > MAX_UNEXPECTED_SHARE;
      if (wrong) ok = false;
      lines.push(
        `  ${wrong ? "MEASURING THE WRONG THING" : "warning"}: ${m.scenario} -> ${m.target}: ` +
          `${m.unexpected.toLocaleString("en-US")} of ${answered.toLocaleString("en-US")} answers with an unexpected status (${statuses || "no answers"})`,
      );
    }
    if (m.errors > 0) lines.push(`  warning: ${m.scenario} -> ${m.target}: ${m.errors} connection errors or timeouts`);
  }
  if (lines.length > 0) console.log(`\nNotes\n${lines.join("\n")}`);
  return ok;
}

/** What `--json FILE` writes: the run's parameters and one row per scenario and target, ratio included. */
async function writeJson(file: string, config: Config, results: Measurement[], drivers: unknown): Promise<void> {
  const rows = results.map((m) => {
    const baseline = results.find((b) => b.scenario === m.scenario && b.target === "baseline");
    const ratio = m.target === "product" && baseline && baseline.reqPerSec > 0 ? m.reqPerSec / baseline.reqPerSec : null;
    const { notes: _notes, ...figures } = m;
    return { ...figures, ratioToBaseline: ratio };
  });
  const report = {
    at: new Date().toISOString(),
    parameters: {
      node: process.version,
      cpus: availableParallelism(),
      workers: config.workers,
      connections: config.connections,
      durationS: config.durationS,
      warmupS: config.warmupS,
      rounds: config.rounds,
      sessions: sessionStore(config.services),
      skipped: config.skipped.map(({ scenario, reason }) => ({ scenario: scenario.name, reason })),
    },
    results: rows,
    databaseDrivers: drivers,
  };
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nFigures written to ${file}`);
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

async function benchmark(config: Config): Promise<number> {
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
  if (config.jsonFile) await writeJson(config.jsonFile, config, results, extra.databaseDrivers ?? null);
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
