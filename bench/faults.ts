// `npm run faults`: the local deployment (deploy/local: nginx, two instances, PgBouncer, Redis) under steady traffic,
// one fault at a time, and what clients saw. Each scenario runs the same traffic (public reads, signed-in reads, writes,
// on keep-alive and new connections, through nginx), injects its fault, waits for the service to recover by itself,
// then checks that every write it acknowledged is in the database. The last one delivers a burst of Stripe webhooks
// and kills a background worker in the middle of it. Prints one table (docs/reliability.md keeps a run of it).
import os from "node:os";
import pg from "pg";
import { startDeployment, type Deployment } from "../deploy/local/deployment.ts";
import { describeAnswer, isOk, isRefusal, lostWrites, newCast, Traffic, type Answer, type Cast } from "../deploy/local/traffic.ts";
import { FakeStripe, type FakeEvent } from "../server/test/fake-stripe.ts";
import { createStripe } from "../server/infra/stripe.ts";
import { burstDeliveries, inParallel, stripeHistory } from "../server/test/stripe-burst.ts";
import { reloadOnce, waitFor, type ClusterProcess } from "../server/test/primary-process.ts";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Traffic before the fault, to compare latencies with. */
const BEFORE_MS = 3_000;
/** After the fault is over: at least this long, and until this long has passed without a single answer that is not OK. */
const CALM_MS = 3_000;
const RECOVERY_LIMIT_MS = 60_000;

/** Members who read at once while Postgres is slow: more than the pools can serve at its pace. */
const CROWD = 100;

const STRIPE_SECRET = "whsec_faults_platform";
const STRIPE_CONNECT_SECRET = "whsec_faults_connect";

interface Scenario {
  name: string;
  /** Injects the fault and resolves once it is over (the dependency back, the process replaced); may say more. */
  inject(deployment: Deployment, cast: Cast): Promise<string | void>;
}

interface Row {
  scenario: string;
  requests: number;
  failed: number;
  /** 503 or 429 with Retry-After: refused on purpose. */
  refused: number;
  /** 401 to a member whose session was lost: signed in again. */
  signedOut: number;
  /** From the fault to the last answer that was not OK; 0 when every answer was. */
  recoveryMs: number;
  lost: number;
  p99BeforeMs: number;
  p99DuringMs: number;
  note: string;
}

const firstInstance = (deployment: Deployment): ClusterProcess => {
  const running = deployment.instances[0]?.process;
  if (!running) throw new Error("instance-1 is not running");
  return running;
};

const SCENARIOS: Scenario[] = [
  {
    name: "a web worker killed (kill -9)",
    async inject(deployment) {
      const instance = firstInstance(deployment);
      const [victim] = instance.readyPids("web");
      const killedAt = performance.now();
      process.kill(victim!, "SIGKILL");
      await waitFor(
        () => !instance.readyPids("web").includes(victim!) && instance.readyPids("web").length === instance.webWorkers,
        30_000,
        "a replacement",
      );
      return `replacement ready in ${Math.round(performance.now() - killedAt)} ms`;
    },
  },
  {
    name: "a reload (SIGHUP) of one instance",
    async inject(deployment) {
      const reload = await reloadOnce(firstInstance(deployment));
      return `every web worker replaced in ${reload.ms} ms`;
    },
  },
  {
    name: "one instance rolled (SIGTERM, started again)",
    async inject(deployment) {
      const [instance] = deployment.instances;
      const stoppingAt = performance.now();
      await instance!.stop();
      const stoppedAt = performance.now();
      await instance!.start();
      return `stopped in ${Math.round(stoppedAt - stoppingAt)} ms, serving again ${Math.round(performance.now() - stoppedAt)} ms later`;
    },
  },
  {
    name: "Redis killed, a new one 5 s later",
    async inject(deployment) {
      await deployment.restartRedis(5_000);
      return "every session lost with it: members sign in again";
    },
  },
  {
    name: "Postgres cut for 5 s (packets dropped)",
    async inject(deployment) {
      await deployment.postgresRelay.cut("drop");
      await sleep(5_000);
      await deployment.postgresRelay.restore();
    },
  },
  {
    name: "PgBouncer restarted (down 1 s)",
    async inject(deployment) {
      await deployment.pgbouncer.restart(1_000);
    },
  },
  {
    name: "Postgres slow for 10 s (+200 ms a round trip), 100 more members reading",
    async inject(deployment, cast) {
      deployment.postgresRelay.slow(200);
      const crowd = Traffic.crowd(deployment.url, cast, CROWD).start();
      await sleep(10_000);
      const answers = await crowd.stop();
      deployment.postgresRelay.slow(0);
      const admitted = latencies(answers);
      const refused = answers.filter(isRefusal).length;
      const failed = answers.length - admitted.length - refused;
      return `the crowd's ${answers.length} reads: ${admitted.length} answered (p99 ${percentile(admitted, 0.99)} ms, slowest ${Math.round(Math.max(0, ...admitted))} ms), ${refused} refused at once (503), ${failed} failed`;
    },
  },
];

function percentile(values: number[], share: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))]!);
}

const latencies = (answers: Answer[]) => answers.filter(isOk).map((answer) => answer.endedAt - answer.startedAt);
/** Members' reads and writes, which need the database (public reads are mostly served from the cache). */
const ofMembers = (answers: Answer[]) => answers.filter((answer) => !answer.client.startsWith("public"));

/** Waits until CALM_MS have passed since `from` without an answer that is not OK (or the limit). */
async function untilCalm(answersSoFar: () => Answer[], from: number): Promise<void> {
  const deadline = performance.now() + RECOVERY_LIMIT_MS;
  while (performance.now() < deadline) {
    const lastBad = Math.max(
      from,
      ...answersSoFar()
        .filter((answer) => !isOk(answer))
        .map((answer) => answer.endedAt),
    );
    if (performance.now() - lastBad >= CALM_MS) return;
    await sleep(250);
  }
}

async function runScenario(deployment: Deployment, cast: Cast, scenario: Scenario): Promise<Row> {
  const traffic = Traffic.everyday(deployment.url, cast).start();
  const startedAt = performance.now();
  await sleep(BEFORE_MS);
  const faultAt = performance.now();
  let note: string | void;
  try {
    note = await scenario.inject(deployment, cast);
  } finally {
    await untilCalm(() => traffic.answersSoFar(), performance.now());
  }
  const overAt = performance.now();
  const answers = await traffic.stop();
  const notOk = answers.filter((answer) => !isOk(answer));
  const lastNotOk = Math.max(faultAt, ...notOk.map((answer) => answer.endedAt));
  const during = answers.filter((answer) => answer.startedAt >= faultAt && answer.startedAt < overAt);
  const publicReads = during.filter((answer) => answer.client.startsWith("public"));
  const failed = notOk.filter((answer) => !isRefusal(answer) && answer.status !== 401);
  return {
    scenario: scenario.name,
    requests: answers.length,
    failed: failed.length,
    refused: notOk.filter(isRefusal).length,
    signedOut: notOk.filter((answer) => answer.status === 401).length,
    recoveryMs: notOk.length === 0 ? 0 : Math.round(lastNotOk - faultAt),
    lost: (await lostWrites(deployment.databaseUrl, answers)).length,
    p99BeforeMs: percentile(
      latencies(ofMembers(answers.filter((answer) => answer.startedAt < faultAt && answer.startedAt >= startedAt))),
      0.99,
    ),
    p99DuringMs: percentile(latencies(ofMembers(during)), 0.99),
    note: [
      note,
      `public reads meanwhile: ${publicReads.filter(isOk).length} of ${publicReads.length} answered`,
      ...failed.slice(0, 3).map((answer) => `failed: ${describeAnswer(answer)}`),
    ]
      .filter(Boolean)
      .join("; "),
  };
}

/** 2,000 deliveries (a fifth of them duplicates, shuffled, 32 at a time) while instance-1's background worker is killed. */
async function webhookBurst(deployment: Deployment, fake: FakeStripe): Promise<Row> {
  const db = new pg.Client({ connectionString: deployment.databaseUrl });
  await db.connect();
  try {
    const communities = await db.query<{ id: string }>(
      "insert into communities (slug, name) select 'burst-' || n, 'Burst ' || n from generate_series(1, 20) n returning id",
    );
    const stripe = createStripe({ secretKey: "sk_test_faults", apiUrl: fake.url });
    await stripeHistory(
      fake,
      stripe,
      communities.rows.map((row) => row.id),
      36,
    );
    const secretOf = (event: FakeEvent) => (event.account ? STRIPE_CONNECT_SECRET : STRIPE_SECRET);
    const burst = burstDeliveries(fake.events, secretOf, 2_000, 0);
    const instance = firstInstance(deployment);
    const [worker] = instance.readyPids("worker");
    const statuses: Array<number | undefined> = [];
    const startedAt = performance.now();
    let killedAt = startedAt;
    await inParallel(burst.deliveries, 32, async (delivery, index) => {
      if (index === Math.floor(burst.deliveries.length / 2)) {
        process.kill(worker!, "SIGKILL");
        killedAt = performance.now();
      }
      const endpoint = `${deployment.url}/api/webhooks/stripe${delivery.event.account ? "/connect" : ""}`;
      statuses[index] = await fake.deliver(endpoint, delivery.event, delivery.secret).then(
        (response) => response.status,
        () => undefined,
      );
    });
    const acknowledged = new Set(burst.deliveries.flatMap((delivery, index) => (statuses[index] === 200 ? [delivery.event.id] : [])));
    const unfinished = async () =>
      (await db.query<{ count: number }>("select count(*)::int as count from stripe_events where status not in ('processed', 'ignored')"))
        .rows[0]!.count;
    // Left pending after this long, an event counts as lost below.
    await waitFor(async () => (await unfinished()) === 0, 120_000, "every stored event to be processed").catch(() => undefined);
    const drainedAt = performance.now();
    const pending = await unfinished();
    const jobsLeft = async () =>
      (await db.query<{ count: number }>("select count(*)::int as count from graphile_worker.jobs")).rows[0]!.count;
    await waitFor(async () => (await jobsLeft()) === 0, 10_000, "the queue to be empty").catch(() => undefined);
    const processed = new Set(
      (await db.query<{ id: string }>("select id from stripe_events where status = 'processed'")).rows.map((row) => row.id),
    );
    const processedLines = deployment.instances.flatMap((each) =>
      (each.process?.lines ?? []).flatMap((line) => (line.json?.msg === "stripe event processed" ? [line.json.stripeEvent as string] : [])),
    );
    const refused = statuses.filter((status) => status === 503 || status === 429).length;
    return {
      scenario: `2,000 Stripe webhooks (${burst.valid.length} distinct), background worker killed halfway`,
      requests: burst.deliveries.length,
      failed: statuses.filter((status) => status !== 200 && status !== 503 && status !== 429).length,
      refused,
      signedOut: 0,
      recoveryMs: Math.round(drainedAt - killedAt),
      lost: [...acknowledged].filter((id) => !processed.has(id)).length,
      p99BeforeMs: 0,
      p99DuringMs: 0,
      note:
        pending === 0
          ? `${processedLines.length - new Set(processedLines).size} processed twice; all processed ${Math.round(drainedAt - killedAt)} ms after the kill`
          : `${pending} events still pending ${Math.round(drainedAt - killedAt)} ms after the kill, ${await jobsLeft()} jobs in the queue (${await lastJobError(db)})`,
    };
  } finally {
    await db.end();
  }
}

/** Why jobs are still waiting, when some are: the last error graphile-worker recorded, or where they stand. */
async function lastJobError(db: pg.Client): Promise<string> {
  const { rows } = await db.query<{ last_error: string | null; locked_by: string | null; run_at: Date }>(
    "select last_error, locked_by, run_at from graphile_worker.jobs order by run_at limit 1",
  );
  const job = rows[0];
  if (!job) return "none";
  return job.last_error ?? `${job.locked_by ? `locked by ${job.locked_by}` : "not locked"}, due ${job.run_at.toISOString()}`;
}

function printTable(rows: Row[]): void {
  const header =
    "| scenario | requests | failed | refused (Retry-After) | signed out | recovery | lost | members' p99 before → during | note |";
  const lines = rows.map(
    (row) =>
      `| ${row.scenario} | ${row.requests} | ${row.failed} | ${row.refused} | ${row.signedOut} | ${row.recoveryMs === 0 ? "—" : `${(row.recoveryMs / 1000).toFixed(1)} s`} | ${row.lost} | ${row.p99BeforeMs === 0 && row.p99DuringMs === 0 ? "—" : `${row.p99BeforeMs} → ${row.p99DuringMs} ms`} | ${row.note} |`,
  );
  process.stdout.write(`\n${header}\n|${" --- |".repeat(9)}\n${lines.join("\n")}\n`);
}

/** `npm run faults -- --only=redis`: the scenarios whose name contains that word (the webhook burst's is "webhooks"). */
const only = process.argv
  .find((arg) => arg.startsWith("--only="))
  ?.slice("--only=".length)
  .toLowerCase();
const chosen = (name: string) => !only || name.toLowerCase().includes(only);

async function main(): Promise<void> {
  const postgresUrl = process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres";
  const fake = await FakeStripe.start();
  process.stdout.write(`Faults on ${os.availableParallelism()} CPUs, ${new Date().toISOString()}: starting the deployment…\n`);
  const deployment = await startDeployment({
    postgresUrl,
    env: {
      // Every request is counted against its limit, none refused: all the traffic comes from one address.
      RATE_LIMIT_MULTIPLIER: "1000",
      STRIPE_SECRET_KEY: "sk_test_faults",
      STRIPE_API_URL: fake.url,
      STRIPE_WEBHOOK_SECRET: STRIPE_SECRET,
      STRIPE_CONNECT_WEBHOOK_SECRET: STRIPE_CONNECT_SECRET,
      STRIPE_PRICE_PRO: "price_pro",
      STRIPE_PRICE_PREMIUM: "price_premium",
    },
  });
  const rows: Row[] = [];
  try {
    const cast = await newCast(deployment.url);
    for (const scenario of SCENARIOS.filter((each) => chosen(each.name))) {
      process.stdout.write(`- ${scenario.name}…\n`);
      rows.push(await runScenario(deployment, cast, scenario));
    }
    if (chosen("webhooks")) {
      process.stdout.write("- a burst of Stripe webhooks…\n");
      rows.push(await webhookBurst(deployment, fake));
    }
  } finally {
    printTable(rows);
    await deployment.stop();
    await fake.close();
  }
  if (rows.some((row) => row.lost > 0)) process.exitCode = 1;
}

await main();
