// `node --import tsx bench/shedding-steps.ts [--max-in-flight=N] [--steps=1,2,4,...]`: one web worker of the bundle, its
// pool sized as the `growth` tier's on 2 CPUs (11 connections), driven by autocannon on a member's members page at rising
// concurrency, 5 s a step. Prints, per step, the requests served per second and their latency (p50, p90, p99), apart
// from the requests shed with 503 (load shedding off unless --max-in-flight is given). How the figures chose the tiers'
// limits: docs/capacity.md, Load shedding.
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { buildServer } from "../server/build.ts";
import { freePort } from "../server/infra/free-port.ts";
import { startProcess } from "./cluster.ts";
import { RATE_LIMITS_COUNT_ONLY, resolveBenchServices } from "./services.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const STEP_S = 5;
const option = (name: string) => process.argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
const MAX_IN_FLIGHT = option("max-in-flight") ?? "0";
const STEPS = (option("steps") ?? "1,2,4,8,16,32,64,128,256").split(",").map(Number);

const percentile = (sorted: number[], share: number) =>
  Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * share))] ?? NaN);

async function post(url: string, body: unknown, cookie = ""): Promise<Response> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", cookie },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`POST ${url}: ${response.status} ${await response.text()}`);
  return response;
}

/** A member of a new community, signed in: the members page to load, and the session cookie. */
async function membersPage(url: string): Promise<{ path: string; cookie: string }> {
  const registered = await post(`${url}/api/auth/register`, {
    email: `steps-${Date.now()}@example.test`,
    password: "a long password 1",
    name: "Steps",
  });
  const cookie = (registered.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  const created = await post(`${url}/api/communities`, { name: `Steps ${Date.now()}` }, cookie);
  const { community } = (await created.json()) as { community: { slug: string } };
  return { path: `/api/communities/${community.slug}/members`, cookie };
}

async function step(url: string, cookie: string, connections: number): Promise<string> {
  const served: number[] = [];
  let shed = 0;
  await new Promise<void>((resolve, reject) => {
    const instance = autocannon({ url, connections, duration: STEP_S, headers: { cookie } }, (error) =>
      error ? reject(error) : resolve(),
    );
    instance.on("response", (_client, status, _bytes, latencyMs) => (status === 200 ? served.push(latencyMs) : (shed += 1)));
  });
  served.sort((a, b) => a - b);
  const latency = [0.5, 0.9, 0.99].map((share) => percentile(served, share)).join(" / ");
  return `${String(connections).padStart(5)}  ${String(Math.round(served.length / STEP_S)).padStart(8)}  ${latency.padStart(18)}  ${String(shed).padStart(6)}`;
}

async function main(): Promise<void> {
  const services = await resolveBenchServices();
  if (!services.databaseUrl) throw new Error("needs DATABASE_URL or the local Postgres at 127.0.0.1:5432");
  try {
    await buildServer();
    const port = await freePort();
    const env = {
      PATH: process.env.PATH,
      DATABASE_URL: services.databaseUrl,
      REDIS_URL: services.redisUrl,
      REDIS_KEY_PREFIX: services.redisKeyPrefix,
      PORT: String(port),
      NODE_ENV: "test",
      SESSION_SECRET: randomBytes(32).toString("hex"),
      TICKET_SIGNING_KEY: randomBytes(32).toString("hex"),
      LOG_LEVEL: "warn",
      WEB_CONCURRENCY: "1",
      // (27 - 5 reserved) / 2 processes: the 11 connections per pool of `growth` with 2 web workers.
      DB_CONNECTION_BUDGET: "27",
      SHED_MAX_IN_FLIGHT: MAX_IN_FLIGHT,
      SHED_MAX_EVENT_LOOP_DELAY_MS: "0",
      RATE_LIMIT_MULTIPLIER: RATE_LIMITS_COUNT_ONLY,
    };
    const url = `http://127.0.0.1:${port}`;
    const product = await startProcess([process.execPath, "dist/server/entry/primary.js"], env, `${url}/api/health/live`, { cwd: ROOT });
    try {
      const { path, cookie } = await membersPage(url);
      console.log(`members page, 1 web worker, pool 11, SHED_MAX_IN_FLIGHT=${MAX_IN_FLIGHT}, ${STEP_S} s per step`);
      console.log("conns  served/s  p50 / p90 / p99 ms    shed");
      for (const connections of STEPS) console.log(await step(url + path, cookie, connections));
    } finally {
      await product.stop();
    }
  } finally {
    await services.release();
  }
}

await main();
process.exit(0);
