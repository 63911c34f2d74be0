// `npm run bench -- --scale-figures`: the per-instance figures that docs/scaling.md multiplies out and that the other
// scenarios do not give. It starts the bundle the way they do (production mode, the run's own database and Redis key
// prefix, the bench's Stripe double) and prints:
// - Redis memory per key kind: signed-in sessions, cached entries of each cache, rate-limit counters of each policy
//   (MEMORY USAGE of every key of the run; as a cross-check, INFO's used_memory just before and after deleting each
//   kind's keys, and after restoring them);
// - the Stripe webhook intake (accepted a second at the endpoint) and the events one background worker processes a
//   second, in three bursts: Stripe answering at once, Stripe answering after BENCH_STRIPE_LATENCY_MS, and Redis
//   holding BENCH_SCALE_FILLER_KEYS more keys (a processed event must cost the same whatever Redis holds);
// - what a request of the mixed peak costs, in CPU, the product's processes, the Postgres backends of the run's
//   database and the Redis server, and how many Redis commands it sends.
//
// Env: BENCH_SCALE_USERS (200 sign-ups), BENCH_SCALE_COMMUNITIES (200 public profiles), BENCH_SCALE_EVENTS (2,000
// events in the first burst, a quarter of that in the others), BENCH_STRIPE_LATENCY_MS (300), BENCH_SCALE_FILLER_KEYS
// (100,000), CAPACITY_TIER (scale). The `scale` tier's pools open up to 78 connections on 2 CPUs: on a Postgres that other
// work shares, DB_CONNECTION_BUDGET lowers them (the queue then runs fewer jobs at once).
import { execFile } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { readFile } from "node:fs/promises";
import { availableParallelism, cpus, loadavg } from "node:os";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import pg from "pg";
import { loadConfig } from "../server/config/env.ts";
import { freePort } from "../server/infra/free-port.ts";
import { startProcess, type RunningProcess } from "./cluster.ts";
import { groupCpuMs } from "./cpu.ts";
import { BEHIND_TLS_PROXY, call, createCommunity, join, mapLimit, register, SetupError, type SignedIn } from "./fixtures.ts";
import { budget, runLoad, type LoadRequest } from "./load.ts";
import { scenarios, type SetupContext } from "./scenarios.ts";
import type { BenchServices } from "./services.ts";
import { webhookDeliveries, type BenchStripe } from "./stripe.ts";

export interface ScaleFiguresOptions {
  /** The product's command and environment, as run.ts makes them for the other scenarios (its port is added here). */
  productCmd: readonly string[];
  productEnv: NodeJS.ProcessEnv;
  services: BenchServices;
  stripe: BenchStripe;
  cwd: string;
}

interface Knobs {
  users: number;
  communities: number;
  events: number;
  stripeLatencyMs: number;
  fillerKeys: number;
  tier: string;
}

/** Sign-ups in flight at once: each is an argon2 hash on the product's side (as in scenarios.ts). */
const SIGN_UP_CONCURRENCY = 4;
/** Reads and joins in flight at once. */
const REQUEST_CONCURRENCY = 16;
/** Webhook deliveries in flight at once: Stripe sends in parallel, from several machines. */
const DELIVERY_CONCURRENCY = 50;
/** How long a burst's events may take to be processed before the run reports them unfinished. */
const DRAIN_TIMEOUT_MS = 120_000;
/** Keys written or read per Redis round trip. */
const REDIS_BATCH = 1_000;
/** The mixed peak's measured load: connections and seconds (after a warm-up of WARMUP_S). */
const MIXED_CONNECTIONS = 50;
const MIXED_DURATION_S = 8;
const MIXED_WARMUP_S = 2;
/** Filler keys expire by themselves should the run die before deleting them. */
const FILLER_TTL_MS = 15 * 60_000;

function knob(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`invalid ${name}: ${raw}`);
  return value;
}

function readKnobs(): Knobs {
  return {
    users: knob("BENCH_SCALE_USERS", 200),
    communities: knob("BENCH_SCALE_COMMUNITIES", 200),
    events: knob("BENCH_SCALE_EVENTS", 2_000),
    stripeLatencyMs: knob("BENCH_STRIPE_LATENCY_MS", 300),
    fillerKeys: knob("BENCH_SCALE_FILLER_KEYS", 100_000),
    tier: process.env.CAPACITY_TIER || "scale",
  };
}

// --- Pure helpers (bench/scale-figures.test.ts) ---------------------------------------------------------------------

/** What a key of the run holds, from its name: the product's layouts under REDIS_KEY_PREFIX. */
export function keyKind(key: string, prefix: string): string {
  if (!key.startsWith(prefix)) return "not the run's";
  const rest = key.slice(prefix.length);
  if (rest.startsWith("sess:")) return "session";
  // bentocache: `<prefix>cache:<namespace>:<key>`.
  const cached = /^cache:([^:]+):/.exec(rest);
  if (cached) return `cache ${cached[1]}`;
  // rate-limiter-flexible: `<prefix>rl:<policy>:<quota>:<client>`.
  const counter = /^rl:([^:]+):/.exec(rest);
  if (counter) return `rate limit ${counter[1]}`;
  return rest.split(":")[0] || "other";
}

export interface Summary {
  count: number;
  mean: number;
  min: number;
  max: number;
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) return { count: 0, mean: Number.NaN, min: Number.NaN, max: Number.NaN };
  return {
    count: values.length,
    mean: values.reduce((sum, value) => sum + value, 0) / values.length,
    min: Math.min(...values),
    max: Math.max(...values),
  };
}

/** A numeric field of INFO's text (`used_memory:939488`). */
export function infoField(info: string, field: string): number {
  const match = new RegExp(`^${field}:([\\d.]+)\\r?$`, "m").exec(info);
  if (!match?.[1]) throw new Error(`INFO has no ${field}`);
  return Number(match[1]);
}

/** The sum of a counter's series whose labels include `labels`, by the value of label `by` (Prometheus text format). */
export function counterBy(text: string, name: string, labels: Readonly<Record<string, string>>, by: string): Record<string, number> {
  const sums: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const series = /^(\w+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!series || series[1] !== name) continue;
    const found = Object.fromEntries([...(series[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map(([, label, value]) => [label, value]));
    if (!Object.entries(labels).every(([label, value]) => found[label] === value)) continue;
    const key = found[by] ?? "";
    sums[key] = (sums[key] ?? 0) + Number(series[3]);
  }
  return sums;
}

/** Rows as an aligned text table: the first column to the left, the others to the right. */
export function formatTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join("  ");
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)].join("\n");
}

const int = (value: number): string => (Number.isFinite(value) ? Math.round(value).toLocaleString("en-US") : "n/a");
const fixed = (value: number, digits = 1): string => (Number.isFinite(value) ? value.toFixed(digits) : "n/a");

// --- Redis memory per key -------------------------------------------------------------------------------------------

interface KindFigures {
  kind: string;
  keys: string[];
  bytes: Summary;
  /** Median time to live of the kind's keys, in seconds (-1: no expiry). */
  ttlS: number;
  /** INFO used_memory's fall when the kind's keys are deleted and its rise when they are restored, per key. */
  usedMemory?: { removed: number; restored: number };
}

async function keysOf(redis: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const batch of redis.scanStream({ match: pattern, count: REDIS_BATCH }) as AsyncIterable<string[]>) keys.push(...batch);
  return keys;
}

/** MEMORY USAGE (every nested value counted: SAMPLES 0) and PTTL of every key of the run, by kind. */
async function memoryByKind(redis: Redis, prefix: string): Promise<KindFigures[]> {
  const keys = (await keysOf(redis, `${prefix}*`)).filter((key) => !key.startsWith(`${prefix}filler:`));
  const measured: Array<{ key: string; kind: string; bytes: number; ttlMs: number }> = [];
  for (let start = 0; start < keys.length; start += REDIS_BATCH) {
    const batch = keys.slice(start, start + REDIS_BATCH);
    const pipeline = redis.pipeline();
    for (const key of batch) pipeline.call("MEMORY", "USAGE", key, "SAMPLES", "0").pttl(key);
    const answers = (await pipeline.exec()) ?? [];
    batch.forEach((key, index) => {
      const bytes = Number(answers[2 * index]?.[1]);
      const ttlMs = Number(answers[2 * index + 1]?.[1]);
      // A key that expired between the scan and the reading answers nil.
      if (Number.isFinite(bytes) && bytes > 0) measured.push({ key, kind: keyKind(key, prefix), bytes, ttlMs });
    });
  }
  const kinds = [...new Set(measured.map((m) => m.kind))].sort();
  return kinds.map((kind) => {
    const mine = measured.filter((m) => m.kind === kind);
    const ttls = mine.map((m) => m.ttlMs).sort((a, b) => a - b);
    const median = ttls[Math.floor(ttls.length / 2)] ?? -1;
    return { kind, keys: mine.map((m) => m.key), bytes: summarize(mine.map((m) => m.bytes)), ttlS: median < 0 ? -1 : median / 1_000 };
  });
}

/**
 * The cross-check of MEMORY USAGE by the server's own count: used_memory just before and after deleting `keys` in one
 * pipeline, then after restoring them (DUMP's payload, their TTL left). The window is a few milliseconds, so that
 * other clients of a shared Redis hardly move the figure; the keys are back as they were for the product.
 */
async function usedMemoryPerKey(redis: Redis, keys: readonly string[]): Promise<{ removed: number; restored: number }> {
  const saved = await Promise.all(keys.map(async (key) => ({ key, payload: await redis.dumpBuffer(key), ttlMs: await redis.pttl(key) })));
  const present = saved.filter((entry): entry is { key: string; payload: Buffer; ttlMs: number } => entry.payload !== null);
  const full = await usedMemory(redis);
  const removal = redis.pipeline();
  for (const { key } of present) removal.del(key);
  await removal.exec();
  const emptied = await usedMemory(redis);
  const restoration = redis.pipeline();
  for (const { key, payload, ttlMs } of present) restoration.restore(key, Math.max(0, ttlMs), payload, "REPLACE");
  await restoration.exec();
  const restored = await usedMemory(redis);
  return { removed: (full - emptied) / present.length, restored: (restored - emptied) / present.length };
}

async function usedMemory(redis: Redis): Promise<number> {
  return infoField(await redis.info("memory"), "used_memory");
}

interface RedisFigures {
  kinds: KindFigures[];
  /** Mean length of a session's value, for filler keys the size of sessions. */
  sessionValueBytes: number;
}

/** Kinds with fewer keys get no used_memory cross-check: the allocator's rounding would be most of the figure. */
const CROSS_CHECK_MIN_KEYS = 50;

/** A GET of the product as a given client address (the product trusts the loopback proxy's X-Forwarded-For). */
async function getAs(baseUrl: string, path: string, address: string): Promise<void> {
  const response = await fetch(new URL(path, baseUrl), {
    headers: { ...BEHIND_TLS_PROXY, "x-forwarded-for": address, connection: "close" },
  });
  const text = await response.text();
  if (response.status !== 200) throw new SetupError(`GET ${path} answered ${response.status}: ${text.slice(0, 300)}`);
}

/** An address of the benchmarking range 198.18.0.0/15 (RFC 2544), one per client. */
const clientAddress = (index: number): string => `198.18.${Math.floor(index / 250)}.${(index % 250) + 1}`;

/**
 * Fills the run's keys as a deployment's traffic does, then measures them: an owner and `communities` open
 * communities; `users` sign-ups (a session each); every community's public profile read by an anonymous client of an
 * address of its own (a cached profile and a per-address counter each); every user joining a community and reading its
 * members page (the signed-in user and their role cached, a per-user counter).
 */
async function measureRedis(baseUrl: string, redis: Redis, prefix: string, knobs: Knobs): Promise<RedisFigures> {
  const owner = await register(baseUrl, "Bench owner");
  const slugs = await mapLimit(Array.from({ length: knobs.communities }), REQUEST_CONCURRENCY, async () => {
    const community = await createCommunity(baseUrl, owner, "open");
    return community.slug;
  });
  console.error(`  ${slugs.length} communities made; ${knobs.users} sign-ups...`);
  const users = await mapLimit(Array.from({ length: knobs.users }), SIGN_UP_CONCURRENCY, (_, index) =>
    register(baseUrl, `Bench member ${index}`),
  );
  console.error("  reading profiles and members pages...");
  await mapLimit(slugs, REQUEST_CONCURRENCY, (slug, index) => getAs(baseUrl, `/api/communities/${slug}`, clientAddress(index)));
  await mapLimit(users, REQUEST_CONCURRENCY, async (user: SignedIn, index) => {
    const slug = slugs[index % slugs.length];
    if (slug === undefined) throw new SetupError("no community to join");
    await join(baseUrl, user, slug);
    await call(baseUrl, "GET", `/api/communities/${slug}/members`, { cookie: user.cookie, expect: 200 });
  });
  const sessions = await keysOf(redis, `${prefix}sess:*`);
  const lengths = await Promise.all(sessions.slice(0, REDIS_BATCH).map((key) => redis.strlen(key)));
  const kinds = await memoryByKind(redis, prefix);
  for (const kind of kinds) if (kind.keys.length >= CROSS_CHECK_MIN_KEYS) kind.usedMemory = await usedMemoryPerKey(redis, kind.keys);
  return { kinds, sessionValueBytes: Math.round(summarize(lengths).mean) };
}

/** Keys of about a session's size under `<prefix>filler:`, as a Redis holding many sessions has. */
async function addFillerKeys(redis: Redis, prefix: string, count: number, valueBytes: number): Promise<void> {
  const value = "x".repeat(Math.max(1, valueBytes));
  for (let start = 0; start < count; start += REDIS_BATCH) {
    const pipeline = redis.pipeline();
    for (let index = start; index < Math.min(count, start + REDIS_BATCH); index++)
      pipeline.set(`${prefix}filler:${index}`, value, "PX", FILLER_TTL_MS);
    await pipeline.exec();
  }
}

async function dropFillerKeys(redis: Redis, prefix: string): Promise<void> {
  const keys = await keysOf(redis, `${prefix}filler:*`);
  for (let start = 0; start < keys.length; start += REDIS_BATCH) await redis.unlink(...keys.slice(start, start + REDIS_BATCH));
}

// --- Stripe: latency, webhook bursts ---------------------------------------------------------------------------------

interface LatencyProxy {
  url: string;
  delayMs: number;
  /** Calls forwarded so far. */
  calls: number;
  close(): Promise<void>;
}

/** Stripe's API as the background worker meets it: the bench's double behind a delay of `delayMs` per call. */
async function startLatencyProxy(target: string): Promise<LatencyProxy> {
  const proxy: LatencyProxy = { url: "", delayMs: 0, calls: 0, close: async () => undefined };
  const server = http.createServer((request, response) => {
    proxy.calls += 1;
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      setTimeout(() => {
        const upstream = http.request(
          new URL(request.url ?? "/", target),
          { method: request.method, headers: request.headers },
          (answer) => {
            response.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(response);
          },
        );
        upstream.on("error", (error) => (response.headersSent ? response.destroy(error) : response.writeHead(502).end(error.message)));
        upstream.end(Buffer.concat(chunks));
      }, proxy.delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}

interface BurstFigures {
  label: string;
  events: number;
  accepted: number;
  /** The endpoint's answers by status: all 200 unless deliveries were refused. */
  statuses: Record<number, number>;
  intakePerS: number;
  processed: number;
  unfinished: number;
  failed: number;
  /** From the first event received to the last processed. */
  workerPerS: number;
  /** Over the backlog left once the last event was received: the worker alone on the CPUs. */
  drainPerS: number;
  drainS: number;
  /** The Redis server's CPU and its SCAN calls over the burst, per event (every client of the server counted). */
  redisCpuUs: number;
  redisScans: number;
  /** Calls to Stripe's API per event, by the background worker. */
  stripeCalls: number;
}

/** `requests` sent `concurrency` at a time on keep-alive connections; statuses counted. */
async function deliverAll(origin: string, requests: readonly LoadRequest[], concurrency: number): Promise<Record<number, number>> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const statuses: Record<number, number> = {};
  try {
    await mapLimit(requests, concurrency, async (request) => {
      const status = await new Promise<number>((resolve, reject) => {
        const sent = http.request(new URL(request.path, origin), { method: request.method, headers: request.headers, agent }, (answer) => {
          answer.resume();
          answer.on("end", () => resolve(answer.statusCode ?? 0));
        });
        sent.on("error", reject);
        sent.end(request.body);
      });
      statuses[status] = (statuses[status] ?? 0) + 1;
    });
  } finally {
    agent.destroy();
  }
  return statuses;
}

interface InboxRow {
  stored: number;
  unfinished: number;
  failed: number;
  processed: number;
  first_received: Date | null;
  last_received: Date | null;
  last_processed: Date | null;
  processed_after_intake: number;
}

async function readInbox(db: pg.Client, since: Date): Promise<InboxRow> {
  const { rows } = await db.query<InboxRow>(
    `with burst as (select * from stripe_events where received_at >= $1)
     select count(*)::int as stored,
            (count(*) filter (where status in ('pending', 'processing')))::int as unfinished,
            (count(*) filter (where status = 'failed'))::int as failed,
            (count(*) filter (where status = 'processed'))::int as processed,
            min(received_at) as first_received, max(received_at) as last_received, max(processed_at) as last_processed,
            (count(*) filter (where processed_at > (select max(received_at) from burst)))::int as processed_after_intake
       from burst`,
    [since],
  );
  const [row] = rows;
  if (!row) throw new SetupError("no answer reading the Stripe inbox");
  return row;
}

/**
 * `count` new signed events delivered at once to /api/webhooks/stripe; then waits until the one background worker
 * has processed them all. Times are the database's: the first event's receipt, the last's, the last processing.
 */
async function burst(
  label: string,
  baseUrl: string,
  { db, redis, proxy }: { db: pg.Client; redis: Redis; proxy: LatencyProxy },
  next: () => LoadRequest,
  count: number,
): Promise<BurstFigures> {
  // Signed before the clock starts: the sender's work is not the endpoint's.
  const requests = Array.from({ length: count }, next);
  const { rows } = await db.query<{ now: Date }>("select clock_timestamp() as now");
  const since = rows[0]?.now ?? new Date();
  console.error(`  burst: ${label}, ${count} events...`);
  const redisBefore = await redisCpuAndCommands(redis);
  const callsBefore = proxy.calls;
  const started = performance.now();
  const statuses = await deliverAll(baseUrl, requests, DELIVERY_CONCURRENCY);
  const intakeS = (performance.now() - started) / 1_000;
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  let inbox = await readInbox(db, since);
  while (inbox.unfinished > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    inbox = await readInbox(db, since);
  }
  const redisAfter = await redisCpuAndCommands(redis);
  const seconds = (from: Date | null, to: Date | null) => (from && to ? (to.getTime() - from.getTime()) / 1_000 : Number.NaN);
  const drainS = seconds(inbox.last_received, inbox.last_processed);
  return {
    label,
    events: count,
    accepted: statuses[200] ?? 0,
    statuses,
    intakePerS: (statuses[200] ?? 0) / intakeS,
    processed: inbox.processed,
    unfinished: inbox.unfinished,
    failed: inbox.failed,
    workerPerS: inbox.processed / seconds(inbox.first_received, inbox.last_processed),
    drainPerS: drainS > 0 ? inbox.processed_after_intake / drainS : Number.NaN,
    drainS,
    redisCpuUs: ((redisAfter.cpuMs - redisBefore.cpuMs) * 1_000) / count,
    redisScans: (redisAfter.scans - redisBefore.scans) / count,
    stripeCalls: (proxy.calls - callsBefore) / count,
  };
}

// --- CPU per request of the mixed peak: the product, Postgres, Redis -------------------------------------------------

interface CostFigures {
  requests: number;
  reqPerS: number;
  productUs: number;
  postgresUs: number;
  redisUs: number;
  redisCommands: number;
  statuses: Record<string, number>;
  /** Reads of the public profile's cache during the load, by result (hit, miss, stale). */
  profileReads: Record<string, number>;
}

/** The community cache's reads so far, all processes of the instance, from its metrics. */
async function profileCacheReads(origin: string, opsToken: string): Promise<Record<string, number>> {
  const response = await fetch(`${origin}/api/metrics`, { headers: { authorization: `Bearer ${opsToken}`, connection: "close" } });
  if (!response.ok) throw new SetupError(`GET /api/metrics answered ${response.status}`);
  return counterBy(await response.text(), "cache_operations_total", { cache: "community" }, "result");
}

/** utime + stime of processes by pid, in ms; a process that is gone is left out. */
async function processCpuMs(pids: readonly number[]): Promise<Map<number, number>> {
  const ticksPerSecond = Number((await promisify(execFile)("getconf", ["CLK_TCK"])).stdout.trim()) || 100;
  const entries = await Promise.all(
    pids.map(async (pid) => {
      const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
      // After the command name, in parentheses: utime and stime are the 12th and 13th fields (proc(5)).
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const ticks = Number(fields[11]) + Number(fields[12]);
      return [pid, (ticks * 1_000) / ticksPerSecond] as const;
    }),
  );
  return new Map(entries.filter(([, ms]) => Number.isFinite(ms)));
}

async function backendPids(db: pg.Client): Promise<number[]> {
  const { rows } = await db.query<{ pid: number }>(
    "select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()",
  );
  return rows.map((row) => row.pid);
}

async function redisCpuAndCommands(redis: Redis): Promise<{ cpuMs: number; commands: number; scans: number }> {
  const [cpu, stats, commands] = await Promise.all([redis.info("cpu"), redis.info("stats"), redis.info("commandstats")]);
  return {
    cpuMs: (infoField(cpu, "used_cpu_user") + infoField(cpu, "used_cpu_sys")) * 1_000,
    commands: infoField(stats, "total_commands_processed"),
    scans: Number(/^cmdstat_scan:calls=(\d+)/m.exec(commands)?.[1] ?? 0),
  };
}

/**
 * The bench's mixed peak (scenarios.ts) for MIXED_DURATION_S at MIXED_CONNECTIONS, after a warm-up: the CPU time, per
 * answer, of the product's process group, of the Postgres backends of the run's database (by pid, from /proc; the
 * server's shared processes, WAL writer and checkpointer, not counted) and of the Redis server (INFO cpu: every client
 * of that server), and the Redis commands per answer (every client too).
 */
async function measureCosts(product: RunningProcess, options: ScaleFiguresOptions, db: pg.Client, redis: Redis): Promise<CostFigures> {
  const scenario = scenarios.find((candidate) => candidate.name === "mixed peak");
  if (!scenario?.setup) throw new SetupError('the bench has no "mixed peak" scenario');
  const context: SetupContext = {
    baseUrl: product.url,
    databaseUrl: options.services.databaseUrl,
    ticketSigningKey: options.productEnv.TICKET_SIGNING_KEY ?? "",
    sessionStore: "Redis",
    connections: MIXED_CONNECTIONS,
    durationS: MIXED_DURATION_S,
    warmupS: MIXED_WARMUP_S,
    budget,
    stripe: options.stripe,
  };
  const load = await scenario.setup(context);
  if (!load.next) throw new SetupError("the mixed peak made no requests");
  const spec = { url: product.url, headers: load.headers ?? {}, next: load.next, varies: true, connections: MIXED_CONNECTIONS };
  await runLoad({ ...spec, durationS: MIXED_WARMUP_S });
  const opsToken = options.productEnv.OPS_TOKEN ?? "";
  const readsBefore = await profileCacheReads(product.url, opsToken);
  const pidsBefore = await backendPids(db);
  const [productBefore, postgresBefore, redisBefore] = await Promise.all([
    groupCpuMs(product.pid),
    processCpuMs(pidsBefore),
    redisCpuAndCommands(redis),
  ]);
  const result = await runLoad({ ...spec, durationS: MIXED_DURATION_S });
  const [productAfter, redisAfter] = await Promise.all([groupCpuMs(product.pid), redisCpuAndCommands(redis)]);
  const pidsAfter = [...new Set([...pidsBefore, ...(await backendPids(db))])];
  const postgresAfter = await processCpuMs(pidsAfter);
  const readsAfter = await profileCacheReads(product.url, opsToken);
  // A backend that ended during the load is a pool's connection closed after 30 s idle: it did no work meanwhile, and
  // is left out. One that started during the load counts from zero.
  const postgresMs = [...postgresAfter].reduce((sum, [pid, ms]) => sum + ms - (postgresBefore.get(pid) ?? 0), 0);
  const perRequestUs = (ms: number) => (ms * 1_000) / result.requests;
  return {
    requests: result.requests,
    reqPerS: result.reqPerSec,
    productUs: productBefore === undefined || productAfter === undefined ? Number.NaN : perRequestUs(productAfter - productBefore),
    postgresUs: perRequestUs(postgresMs),
    redisUs: perRequestUs(redisAfter.cpuMs - redisBefore.cpuMs),
    redisCommands: (redisAfter.commands - redisBefore.commands) / result.requests,
    statuses: result.statuses,
    profileReads: Object.fromEntries(Object.entries(readsAfter).map(([kind, n]) => [kind, n - (readsBefore[kind] ?? 0)])),
  };
}

// --- The run -------------------------------------------------------------------------------------------------------

function printRedis(figures: RedisFigures, prefix: string): void {
  console.log(`\nRedis memory per key (MEMORY USAGE ... SAMPLES 0 of every key under ${prefix}; TTL: the median key's)`);
  console.log(
    formatTable(
      ["key kind", "keys", "mean bytes", "min", "max", "used_memory per key (deleted / restored)", "TTL s"],
      figures.kinds.map((kind) => [
        kind.kind,
        int(kind.bytes.count),
        int(kind.bytes.mean),
        int(kind.bytes.min),
        int(kind.bytes.max),
        kind.usedMemory ? `${int(kind.usedMemory.removed)} / ${int(kind.usedMemory.restored)}` : "",
        kind.ttlS < 0 ? "none" : int(kind.ttlS),
      ]),
    ),
  );
  console.log(
    `  used_memory: INFO memory just before and after deleting the kind's keys in one pipeline, and after restoring them ` +
      `(the expiry table's entry included; other clients of this Redis count too); a session's value is ${figures.sessionValueBytes} bytes of JSON`,
  );
}

function printBursts(bursts: readonly BurstFigures[], concurrency: number): void {
  console.log(
    `\nStripe webhooks: intake at POST /api/webhooks/stripe (${DELIVERY_CONCURRENCY} deliveries at once) and processing by the one background worker ` +
      `(queue concurrency ${concurrency}; events over 20 subscriptions, one event of an object at a time)`,
  );
  console.log(
    formatTable(
      [
        "burst",
        "events",
        "answers",
        "accepted/s",
        "processed",
        "left",
        "failed",
        "worker events/s",
        "drain events/s",
        "drain s",
        "Stripe calls/event",
        "Redis CPU µs/event",
        "SCANs/event",
      ],
      bursts.map((b) => [
        b.label,
        int(b.events),
        Object.entries(b.statuses)
          .map(([status, n]) => `${status} × ${n.toLocaleString("en-US")}`)
          .join(", "),
        int(b.intakePerS),
        int(b.processed),
        int(b.unfinished),
        int(b.failed),
        fixed(b.workerPerS),
        fixed(b.drainPerS),
        fixed(b.drainS),
        fixed(b.stripeCalls, 2),
        int(b.redisCpuUs),
        fixed(b.redisScans),
      ]),
    ),
  );
  console.log(
    "  worker events/s: processed ÷ (last processed − first received); drain events/s: those processed after the last " +
      "receipt ÷ (last processed − last received), the worker no longer sharing the CPUs with the intake; Redis: the whole server",
  );
}

function printCosts(costs: CostFigures): void {
  console.log(
    `\nCPU per answer of the mixed peak (${MIXED_CONNECTIONS} connections, ${MIXED_DURATION_S} s after ${MIXED_WARMUP_S} s of warm-up)`,
  );
  console.log(
    formatTable(
      ["answers", "req/s", "product µs", "Postgres backends µs", "Redis server µs", "Redis commands"],
      [
        [
          int(costs.requests),
          int(costs.reqPerS),
          int(costs.productUs),
          int(costs.postgresUs),
          int(costs.redisUs),
          fixed(costs.redisCommands, 2),
        ],
      ],
    ),
  );
  console.log(
    `  answers: ${Object.entries(costs.statuses)
      .map(([status, n]) => `${status} × ${n.toLocaleString("en-US")}`)
      .join(", ")}; Redis figures are the whole server's (other clients included)`,
  );
  const reads = Object.values(costs.profileReads).reduce((sum, n) => sum + n, 0);
  console.log(
    `  public profile's cache (cache_operations_total{cache="community"}): ${Object.entries(costs.profileReads)
      .map(([result, n]) => `${result} ${n.toLocaleString("en-US")}`)
      .join(", ")}; ${fixed((100 * (costs.profileReads.miss ?? 0)) / reads)}% of the reads missed (loaded from the database)`,
  );
}

export async function scaleFigures(options: ScaleFiguresOptions): Promise<number> {
  const { databaseUrl, redisUrl, redisKeyPrefix } = options.services;
  if (!databaseUrl || !redisUrl) {
    throw new Error("--scale-figures needs a Postgres and a Redis it can reach (DATABASE_URL and REDIS_URL, or both on 127.0.0.1)");
  }
  const knobs = readKnobs();
  const proxy = await startLatencyProxy(options.stripe.fake.url);
  const redis = new Redis(redisUrl, { lazyConnect: true });
  const db = new pg.Client({ connectionString: databaseUrl });
  let product: RunningProcess | undefined;
  try {
    await redis.connect();
    await db.connect();
    const port = await freePort();
    const env = { ...options.productEnv, CAPACITY_TIER: knobs.tier, STRIPE_API_URL: proxy.url, PORT: String(port) };
    const { plan, queueConcurrency } = loadConfig(env);
    const concurrency = queueConcurrency ?? Math.max(1, plan.poolMaxPerProcess - 1);
    console.log("Scale figures");
    console.log(
      `  ${new Date().toISOString()}, node ${process.version}, ${availableParallelism()} cpus (${cpus()[0]?.model ?? "unknown"}), ` +
        `load average ${loadavg()[0]?.toFixed(2)} at the start`,
    );
    console.log(
      `  tier ${knobs.tier}: ${plan.webWorkers} web workers, pool max ${plan.poolMaxPerProcess} per process, queue concurrency ${concurrency}; ` +
        `${knobs.users} sign-ups, ${knobs.communities} public profiles, bursts of ${knobs.events} and ${Math.ceil(knobs.events / 4)} events, ` +
        `Stripe latency ${knobs.stripeLatencyMs} ms, ${knobs.fillerKeys.toLocaleString("en-US")} filler keys; Redis ${redisUrl}, prefix ${redisKeyPrefix}`,
    );
    product = await startProcess(options.productCmd, env, `http://127.0.0.1:${port}/api/health/live`, { cwd: options.cwd });
    const started = performance.now();

    console.error("redis memory per key...");
    const memory = await measureRedis(product.url, redis, redisKeyPrefix, knobs);
    printRedis(memory, redisKeyPrefix);

    console.error("webhook bursts...");
    const next = await webhookDeliveries(product.url, options.stripe, "webhook");
    const small = Math.ceil(knobs.events / 4);
    const bursts = [await burst("Stripe answering at once", product.url, { db, redis, proxy }, next, knobs.events)];
    proxy.delayMs = knobs.stripeLatencyMs;
    bursts.push(await burst(`Stripe answering in ${knobs.stripeLatencyMs} ms`, product.url, { db, redis, proxy }, next, small));
    proxy.delayMs = 0;
    await addFillerKeys(redis, redisKeyPrefix, knobs.fillerKeys, memory.sessionValueBytes);
    try {
      bursts.push(
        await burst(`Redis holding ${knobs.fillerKeys.toLocaleString("en-US")} more keys`, product.url, { db, redis, proxy }, next, small),
      );
    } finally {
      await dropFillerKeys(redis, redisKeyPrefix);
    }
    printBursts(bursts, concurrency);
    if (bursts.some((b) => b.accepted !== b.events)) console.log(`--- the product's last output ---\n${product.outputTail()}`);

    console.error("mixed peak costs...");
    printCosts(await measureCosts(product, options, db, redis));
    if (!product.isRunning()) throw new Error(`the product exited during the run\n--- last output ---\n${product.outputTail()}`);
    console.log(
      `\n(measured in ${Math.round((performance.now() - started) / 1_000)} s after the product's start; load average ${loadavg()[0]?.toFixed(2)} at the end)`,
    );
    const unfinished = bursts.some((b) => b.unfinished > 0 || b.failed > 0 || b.accepted !== b.events);
    return unfinished ? 1 : 0;
  } finally {
    await product?.stop();
    await db.end().catch(() => undefined);
    redis.disconnect();
    await proxy.close();
  }
}
