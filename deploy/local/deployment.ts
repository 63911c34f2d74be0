import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { freePort } from "../../server/infra/free-port.ts";
import { ownDatabase, type OwnDatabase, withDatabase } from "../../server/test/services.ts";
import { startTcpProxy, type TcpProxy } from "../../server/test/tcp-proxy.ts";
import { startPrivateRedis, type PrivateRedis } from "../../server/test/private-redis.ts";
import { spawnPrimary, type ClusterProcess } from "../../server/test/primary-process.ts";
import { startPgBouncer, type PgBouncer } from "./pgbouncer.ts";
import { startNginx, type Nginx } from "./nginx.ts";
import { missingPrograms } from "./programs.ts";

/**
 * A small deployment of the product on loopback, as it runs where one machine is no longer enough: nginx balancing
 * several instances (each a primary with its web workers and background worker, the bundle `npm start` runs), the web
 * workers reaching Postgres through PgBouncer in transaction mode and the background workers and migrations straight
 * (DATABASE_DIRECT_URL), one Redis. Postgres is the machine's, in a database of the deployment's own, behind a TCP relay
 * that a fault can cut or slow down; PgBouncer, Redis and nginx are started here, their files in a temporary folder.
 */

export interface DeploymentOptions {
  /** Any database of the Postgres server to use: the deployment creates its own database there and drops it at the end. */
  postgresUrl: string;
  instances?: number;
  webWorkersPerInstance?: number;
  /** Variables for every instance, on top of the deployment's. */
  env?: Record<string, string>;
  /** Where each process's lines go (the demo prints them); kept in memory either way. */
  onLine?: (source: string, line: string) => void;
}

export interface Instance {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  /** The running primary; undefined while the instance is stopped. */
  readonly process: ClusterProcess | undefined;
  /** Starts the primary (again) and waits until every worker is ready and the port answers. */
  start(): Promise<void>;
  /** SIGTERM to the primary, as a platform stopping it, and waits for it to exit. */
  stop(): Promise<void>;
}

export interface Deployment {
  /** nginx, in front of the instances: what clients use. */
  readonly url: string;
  readonly instances: readonly Instance[];
  readonly nginx: Nginx;
  readonly pgbouncer: PgBouncer;
  /** The relay between Postgres and everything else (PgBouncer and the direct URL). */
  readonly postgresRelay: TcpProxy;
  /** The Redis of the deployment; replaced when a fault restarts it. */
  readonly redis: PrivateRedis;
  /** Straight to the deployment's database, not through the relay: to check what was stored. */
  readonly databaseUrl: string;
  /** Token of the operators' endpoints. */
  readonly opsToken: string;
  /** SIGKILL to Redis, then a new empty Redis on the same port. */
  restartRedis(killedForMs: number): Promise<void>;
  stop(): Promise<void>;
}

/** Every request's line at level info is left out: under load they would be most of the memory and CPU of the runner. */
const notAnOrdinaryRequest = (text: string) => !(text.includes('"level":30') && text.includes('"msg":"request"'));

const secret = () => randomBytes(24).toString("hex");

export async function startDeployment(options: DeploymentOptions): Promise<Deployment> {
  const missing = missingPrograms();
  if (missing.length > 0) throw new Error(`Missing programs: ${missing.join("; ")}`);
  const folder = await mkdtemp(path.join(os.tmpdir(), "community-deployment-"));
  const stack = new Teardown();
  try {
    return await assemble(options, folder, stack);
  } catch (error) {
    await stack.run();
    await rm(folder, { recursive: true, force: true });
    throw error;
  }
}

/** What was started, stopped in the reverse order. */
class Teardown {
  readonly #steps: Array<() => Promise<unknown>> = [];

  add(step: () => Promise<unknown>): void {
    this.#steps.unshift(step);
  }

  async run(): Promise<void> {
    for (const step of this.#steps.splice(0)) await step().catch(() => undefined);
  }
}

async function assemble(options: DeploymentOptions, folder: string, stack: Teardown): Promise<Deployment> {
  const log = options.onLine ?? (() => undefined);
  const database: OwnDatabase = await ownDatabase(options.postgresUrl, "community_deployment");
  stack.add(() => database.drop());
  const server = new URL(database.url);
  const postgresRelay = await startTcpProxy(server.hostname, Number(server.port || 5432));
  stack.add(() => postgresRelay.close());
  const relayedUrl = new URL(database.url);
  relayedUrl.port = String(postgresRelay.port);
  const pgbouncer = await startPgBouncer({ folder, postgres: relayedUrl, onLine: (line) => log("pgbouncer", line) });
  stack.add(() => pgbouncer.stop());
  let redis = await startPrivateRedis();
  stack.add(() => redis.stop());

  const instanceCount = options.instances ?? 2;
  const ports = await Promise.all(Array.from({ length: instanceCount }, () => freePort()));
  const nginxPort = await freePort();
  const opsToken = secret();
  const sharedEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: "production",
    LOG_LEVEL: "info",
    DATABASE_URL: withDatabase(pgbouncer.url, relayedUrl.pathname.slice(1)),
    DATABASE_DIRECT_URL: relayedUrl.toString(),
    REDIS_URL: redis.url,
    SESSION_SECRET: secret(),
    TICKET_SIGNING_KEY: secret(),
    OPS_TOKEN: opsToken,
    APP_URL: `http://127.0.0.1:${nginxPort}`,
    // Requests come through nginx on loopback: the client's address is the one nginx puts in X-Forwarded-For.
    TRUST_PROXY: "loopback",
    // Plain HTTP on loopback: a Secure session cookie would never be set. In front of real clients nginx terminates TLS.
    SESSION_COOKIE_SECURE: "false",
    WEB_CONCURRENCY: String(options.webWorkersPerInstance ?? 2),
    // Two instances share the machine's Postgres with whatever else runs on it.
    DB_CONNECTION_BUDGET: "20",
    ...options.env,
  };
  const instances = ports.map((port, index) => new LocalInstance(`instance-${index + 1}`, port, { ...sharedEnv, PORT: String(port) }, log));
  stack.add(() => Promise.all(instances.map((instance) => instance.kill())));
  // At the same moment, as a platform starting a new release everywhere: the migrations must still run once.
  await Promise.all(instances.map((instance) => instance.start()));
  const nginx = await startNginx({ folder, port: nginxPort, upstreams: ports, onLine: (line) => log("nginx", line) });
  stack.add(() => nginx.stop());
  stack.add(() => rm(folder, { recursive: true, force: true }));

  return {
    url: nginx.url,
    instances,
    nginx,
    pgbouncer,
    postgresRelay,
    get redis() {
      return redis;
    },
    databaseUrl: database.url,
    opsToken,
    async restartRedis(killedForMs) {
      const port = redis.port;
      await redis.kill();
      await new Promise((resolve) => setTimeout(resolve, killedForMs));
      redis = await startPrivateRedis(port);
    },
    stop: () => stack.run(),
  };
}

class LocalInstance implements Instance {
  #process: ClusterProcess | undefined;

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly env: NodeJS.ProcessEnv,
    private readonly log: (source: string, line: string) => void,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get process(): ClusterProcess | undefined {
    return this.#process;
  }

  async start(): Promise<void> {
    if (this.#process) throw new Error(`${this.name} is already running`);
    const started = spawnPrimary(this.env, this.port, undefined, notAnOrdinaryRequest);
    this.#process = started;
    started.onLine((line) => this.log(this.name, line.text));
    await started.waitUntilServing(90_000);
  }

  async stop(): Promise<void> {
    const running = this.#process;
    if (!running) return;
    running.signal("SIGTERM");
    const exit = await running.exit;
    this.#process = undefined;
    if (exit.code !== 0) throw new Error(`${this.name} stopped with code ${exit.code} (signal ${exit.signal})`);
  }

  async kill(): Promise<void> {
    await this.#process?.kill();
    this.#process = undefined;
  }
}
