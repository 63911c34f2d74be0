import { loadConfigOrExit } from "./child-process.ts";
import { createLogger } from "../infra/logger.ts";
import { prepareDatabase } from "../infra/db/migrate.ts";
import { seedDemoOnce } from "../infra/db/demo-seed.ts";
import { isPrepareRequest, type PrepareReply, type PrepareRequest } from "./messages.ts";
import { untilReachable } from "../infra/dependencies.ts";

/**
 * A short-lived child of the primary: applies the migrations and, on the
 * embedded default, seeds the demo once. The schema, drizzle, graphile-worker's
 * migrations and argon2 load here, never in the primary, which waits for this
 * process to answer and exit before it forks the workers.
 */

async function prepare({ seedDemo }: PrepareRequest): Promise<PrepareReply> {
  const config = loadConfigOrExit();
  const logger = createLogger({ level: config.logLevel, role: "prepare" });
  const { url, directUrl } = config.database;
  if (!url || !directUrl) throw new Error("DATABASE_URL is required here (the primary sets it)");
  // The primary saw the database answer a moment ago; it may go away meanwhile. Both steps can run again safely.
  const waitingForDatabase = { dependency: "database", logger };
  await untilReachable(() => prepareDatabase(directUrl, config), waitingForDatabase);
  const demoLogin = seedDemo ? await untilReachable(() => seedDemoOnce(url, config.dataDir, logger), waitingForDatabase) : undefined;
  return { type: "prepared", demoLogin };
}

function reply(message: PrepareReply): Promise<void> {
  return new Promise((resolve) => (process.send ? process.send(message, () => resolve()) : resolve()));
}

async function answer(request: PrepareRequest): Promise<void> {
  const result = await prepare(request).catch((error: unknown): PrepareReply => ({
    type: "boot-failed",
    message: error instanceof Error ? error.message : String(error),
  }));
  await reply(result);
  // The open IPC channel would keep this process alive.
  process.disconnect();
}

process.once("message", (message: unknown) => {
  // Failures are answered to the primary, never thrown.
  if (isPrepareRequest(message)) void answer(message);
});
