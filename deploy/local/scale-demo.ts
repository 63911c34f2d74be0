import { startDeployment } from "./deployment.ts";

/**
 * `npm run scale:demo`: the local deployment (nginx, two instances, PgBouncer, Redis) on loopback until Ctrl-C. Postgres
 * is DATABASE_URL's server, or the machine's at 127.0.0.1:5432; the deployment works in a database of its own there.
 */

const postgresUrl = process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres";
const verbose = process.argv.includes("--verbose");

const say = (text: string) => process.stdout.write(`${text}\n`);

say("Starting PgBouncer, Redis, two instances and nginx…");
const deployment = await startDeployment({
  postgresUrl,
  onLine: (source, line) => {
    if (verbose) say(`[${source}] ${line}`);
  },
}).catch((error: unknown) => {
  process.stderr.write(`Could not start the deployment: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
say(`
  nginx (open this)   ${deployment.url}
${deployment.instances.map((instance) => `  ${instance.name.padEnd(19)} ${instance.url}`).join("\n")}
  PgBouncer           ${deployment.pgbouncer.url} (transaction mode)
  Redis               ${deployment.redis.url}
  database            ${deployment.databaseUrl} (dropped at the end)
  operators' token    ${deployment.opsToken}

Health of the whole: curl ${deployment.url}/api/health
Roll one instance:   kill -TERM ${deployment.instances[0]?.process?.pid ?? "<primary pid>"} (the other keeps serving)
Ctrl-C stops everything.${verbose ? "" : " --verbose prints every process's lines."}`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  say("\nStopping…");
  await deployment.stop();
  process.exit(0);
};
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
