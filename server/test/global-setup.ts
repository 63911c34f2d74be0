import os from "node:os";
import path from "node:path";
import fs from "node:fs/promises";
import { pino } from "pino";
import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "../infra/db/embedded.ts";
import { prepareDatabase } from "../infra/db/migrate.ts";
import { buildServer } from "../build.ts";
import { buildClientIfStale } from "../build-client.ts";
import { answers, ownDatabase } from "./services.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** A database created for this run, migrated, dropped at the end. */
    databaseUrl: string;
    /** Empty when no Redis is reachable (Redis tests then skip, saying why). */
    redisUrl: string;
    /** Why Redis tests are skipped, when they are. */
    redisSkipReason: string;
  }
}

const LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres";
const LOCAL_REDIS = "redis://127.0.0.1:6379";

interface PostgresServer {
  adminUrl: string;
  stop(): Promise<void>;
}

/** DATABASE_URL when set, else the local service when it answers, else an embedded Postgres in a temporary folder. */
async function findPostgres(): Promise<PostgresServer> {
  const configured = process.env.DATABASE_URL;
  if (configured) return { adminUrl: configured, stop: async () => undefined };
  if (await answers("127.0.0.1", 5432)) return { adminUrl: LOCAL_POSTGRES, stop: async () => undefined };
  console.log("[tests] no Postgres at 127.0.0.1:5432 and no DATABASE_URL: starting an embedded Postgres");
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "community-test-pg-"));
  await fs.chmod(dir, 0o755);
  const embedded: EmbeddedDatabase = await startEmbeddedPostgres(path.join(dir, "data"), pino({ level: "warn" }));
  return {
    adminUrl: embedded.url,
    stop: async () => {
      await embedded.stop();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

async function findRedis(): Promise<{ url: string; skipReason: string }> {
  const configured = process.env.REDIS_URL;
  if (configured) return { url: configured, skipReason: "" };
  if (await answers("127.0.0.1", 6379)) return { url: LOCAL_REDIS, skipReason: "" };
  const reason = "no REDIS_URL and nothing answers at 127.0.0.1:6379";
  if (process.env.CI === "true") throw new Error(`CI=true but Redis is missing: ${reason}`);
  console.log(`[tests] Redis tests will be skipped: ${reason}`);
  return { url: "", skipReason: reason };
}

interface SharedServices {
  databaseUrl: string;
  redis: { url: string; skipReason: string };
  teardown(): Promise<void>;
}

/** One Postgres database, one Redis decision, one build per run, whatever the number of vitest projects asking. */
async function startServices(): Promise<SharedServices> {
  // Process tests start the bundle, as `npm start` does, and browser tests load the web app: both built from the sources under test.
  await buildServer();
  await buildClientIfStale();
  const server = await findPostgres();
  const database = await ownDatabase(server.adminUrl, "test");
  await prepareDatabase(database.url);
  return {
    databaseUrl: database.url,
    redis: await findRedis(),
    async teardown() {
      await database.drop();
      await server.stop();
    },
  };
}

/**
 * Vitest loads this module once per project; the services live on globalThis so
 * that every project of the run shares them, and the last to finish tears them down.
 */
const SHARED = Symbol.for("community-platform.test-services");
interface SharedState {
  services: Promise<SharedServices>;
  users: number;
}
const registry = globalThis as typeof globalThis & { [SHARED]?: SharedState };

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const state = (registry[SHARED] ??= { services: startServices(), users: 0 });
  state.users += 1;
  const services = await state.services;
  project.provide("databaseUrl", services.databaseUrl);
  project.provide("redisUrl", services.redis.url);
  project.provide("redisSkipReason", services.redis.skipReason);
  return async () => {
    state.users -= 1;
    if (state.users === 0) await services.teardown();
  };
}
