import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HttpClient } from "../../server/test/harness.ts";
import { startFakeSendgrid, type FakeSendgrid } from "../../server/test/fake-sendgrid.ts";
import { parsePrometheus, sumOf } from "../../server/test/prometheus.ts";
import { query, withDatabase } from "../../server/test/services.ts";
import { MIGRATIONS_DIR } from "../../server/paths.ts";
import type { Deployment } from "./deployment.ts";
import { deploymentForSuite, deploymentSkipReason } from "./suite.ts";

/**
 * What must hold when two instances share Postgres (through PgBouncer in transaction mode) and Redis: each test works
 * through both instances directly, or through nginx, and checks what clients and the database see.
 */

const PASSWORD = "correct horse battery";
/** Anonymous requests per minute from one address. */
const ANONYMOUS_ALLOWANCE = 20;

/**
 * Each client its own address, as nginx would put it in X-Forwarded-For: anonymous requests and registrations are
 * limited per address, and the test sends hundreds of them.
 */
const fromAddress = (address: string) => ({ "x-forwarded-for": address });
let addressesUsed = 0;
const newAddress = () => {
  addressesUsed += 1;
  return `10.${addressesUsed >> 16}.${(addressesUsed >> 8) & 255}.${addressesUsed & 255}`;
};

async function register(baseUrl: string, address = newAddress()): Promise<{ client: HttpClient; email: string }> {
  const client = new HttpClient(baseUrl);
  const email = `member-${randomUUID()}@example.test`;
  const response = await client.post("/api/auth/register", { email, password: PASSWORD, name: "Ada" }, fromAddress(address));
  if (response.status !== 201) throw new Error(`register: ${response.status} ${await response.text()}`);
  return { client, email };
}

async function newCommunity(owner: HttpClient): Promise<string> {
  const created = await owner.post("/api/communities", { name: `Club ${randomUUID().slice(0, 8)}` });
  if (created.status !== 201) throw new Error(`create community: ${created.status} ${await created.text()}`);
  return ((await created.json()) as { community: { slug: string } }).community.slug;
}

/** A GET on a connection of its own (round-robin then spreads the reads over an instance's web workers). */
function getOnNewConnection(url: string, address = newAddress()): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false, headers: { connection: "close", ...fromAddress(address) } }, (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (body += chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
      })
      .on("error", reject);
  });
}

async function instanceMetrics(deployment: Deployment, index: number) {
  const instance = deployment.instances[index]!;
  const response = await fetch(`${instance.url}/api/metrics`, { headers: { authorization: `Bearer ${deployment.opsToken}` } });
  return parsePrometheus(await response.text());
}

describe.skipIf(deploymentSkipReason !== "")(`two instances behind nginx and PgBouncer (${deploymentSkipReason || "ready"})`, () => {
  let sendgrid: FakeSendgrid;
  let deployment: Deployment;
  const first = () => deployment.instances[0]!.url;
  const second = () => deployment.instances[1]!.url;

  beforeAll(async () => {
    sendgrid = await startFakeSendgrid();
  });
  deploymentForSuite(
    () => ({
      SENDGRID_API_KEY: "SG.test-key",
      SENDGRID_API_URL: sendgrid.url,
      // A real limit for anonymous clients; each test client has an address of its own.
      RATE_LIMIT_ANONYMOUS_PER_MIN: String(ANONYMOUS_ALLOWANCE),
      RATE_LIMIT_GLOBAL_PER_S: "100000",
      // Two instances and this test share 2 CPUs: a starved worker must not shed what it is being asked.
      SHED_MAX_IN_FLIGHT: "0",
      SHED_MAX_EVENT_LOOP_DELAY_MS: "0",
    }),
    (started) => (deployment = started),
  );
  afterAll(() => sendgrid?.close());

  it("applies the migrations once when both instances start at the same moment", async () => {
    const journal = JSON.parse(await readFile(path.join(MIGRATIONS_DIR, "meta/_journal.json"), "utf8")) as { entries: unknown[] };
    const applied = await query<{ count: number }>(
      deployment.databaseUrl,
      "select count(*)::int as count from drizzle.__drizzle_migrations",
    );
    expect(applied[0]?.count).toBe(journal.entries.length);
    for (const instance of deployment.instances) {
      expect(instance.process?.primaryLogs("database ready")).toHaveLength(1);
      expect(instance.process?.errorLines()).toEqual([]);
    }
  });

  it("gives the web workers' connections through PgBouncer the statement timeout they cannot set themselves", async () => {
    const pooledUrl = withDatabase(deployment.pgbouncer.url, new URL(deployment.databaseUrl).pathname.slice(1));
    const [timeouts] = await query<{ statement: string; idle: string }>(
      pooledUrl,
      "select current_setting('statement_timeout') as statement, current_setting('idle_in_transaction_session_timeout') as idle",
    );
    // The growth tier's 10 s, and twice that for a transaction left idle.
    expect(timeouts).toEqual({ statement: "10s", idle: "20s" });
  });

  it("serves a session made through one instance through the other, and ends it everywhere", async () => {
    const { client, email } = await register(first());
    const elsewhere = new HttpClient(second());
    elsewhere.cookie = client.cookie;
    const me = await elsewhere.get("/api/auth/me");
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ user: { email } });
    expect((await elsewhere.post("/api/auth/logout")).status).toBe(204);
    expect((await client.get("/api/auth/me")).status).toBe(401);
  });

  it("reads a write made through one instance fresh through the other within a second", async () => {
    const { client: owner } = await register(first());
    const slug = await newCommunity(owner);
    const profileUrl = `${second()}/api/communities/${slug}`;
    // Cached in both web workers of the other instance, and in Redis.
    for (let read = 0; read < 6; read += 1) expect((await getOnNewConnection(profileUrl)).status).toBe(200);

    const description = `Changed ${randomUUID()}`;
    expect((await owner.request("PATCH", `/api/communities/${slug}`, { description })).status).toBe(200);
    const writtenAt = performance.now();
    const reads: Array<{ at: number; fresh: boolean }> = [];
    while (performance.now() - writtenAt < 1_500) {
      const { body } = await getOnNewConnection(profileUrl);
      reads.push({ at: performance.now() - writtenAt, fresh: body.includes(description) });
    }
    const lastStale = Math.max(0, ...reads.filter((read) => !read.fresh).map((read) => read.at));
    console.log(
      `[cross-instance] ${reads.length} reads through the other instance; last stale answer ${Math.round(lastStale)} ms after the write`,
    );
    expect(lastStale).toBeLessThan(1_000);
    expect(reads.at(-1)?.fresh).toBe(true);
  });

  it("counts the requests of one client through both instances against one allowance", async () => {
    const slug = await newCommunity((await register(first())).client);
    const address = newAddress();
    const read = (baseUrl: string) => getOnNewConnection(`${baseUrl}/api/communities/${slug}`, address);
    const statuses: number[] = [];
    for (let index = 0; index < ANONYMOUS_ALLOWANCE; index += 1) statuses.push((await read(index % 2 === 0 ? first() : second())).status);
    // Half of the requests went to each instance: neither alone has seen its allowance.
    expect(statuses).toEqual(Array(ANONYMOUS_ALLOWANCE).fill(200));
    const refused = [await read(first()), await read(second())];
    expect(refused.map((answer) => answer.status)).toEqual([429, 429]);
    expect(JSON.parse(refused[1]!.body)).toMatchObject({ error: { code: "rate_limited" } });
  });

  it("runs each job enqueued by either instance once, on whichever background worker takes it", async () => {
    const before = await Promise.all(
      [0, 1].map(async (index) => sumOf(await instanceMetrics(deployment, index), "jobs_completed_total", { task: "emails.send" })),
    );
    const emails = await Promise.all(Array.from({ length: 20 }, (_, index) => register(index % 2 === 0 ? first() : second()))).then(
      (made) => made.map(({ email }) => email),
    );
    const welcomed = () => emails.filter((email) => sendgrid.to(email).length > 0).length;
    await expect.poll(welcomed, { timeout: 20_000, interval: 100 }).toBe(emails.length);
    // Room for a second delivery of any of them, had a job run twice.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(emails.map((email) => sendgrid.to(email).length)).toEqual(emails.map(() => 1));
    const left = await query<{ count: number }>(
      deployment.databaseUrl,
      "select count(*)::int as count from graphile_worker.jobs where task_identifier = 'emails.send'",
    );
    expect(left[0]?.count).toBe(0);
    const ran = await Promise.all(
      [0, 1].map(
        async (index) => sumOf(await instanceMetrics(deployment, index), "jobs_completed_total", { task: "emails.send" }) - before[index]!,
      ),
    );
    console.log(`[cross-instance] 20 welcome emails sent by the background workers: ${ran.join(" + ")}`);
    expect(ran[0]! + ran[1]!).toBe(emails.length);
  });

  it("balances requests over both instances through nginx", async () => {
    const pids = new Set<number>();
    for (let index = 0; index < 12; index += 1) {
      const { body } = await getOnNewConnection(`${deployment.url}/api/health/live`);
      pids.add((JSON.parse(body) as { pid: number }).pid);
    }
    const instancePids = deployment.instances.map((instance) => new Set(instance.process?.readyPids("web")));
    expect(instancePids.map((own) => [...pids].some((pid) => own.has(pid)))).toEqual([true, true]);
  });
});
