import { afterAll, beforeAll } from "vitest";
import { databaseUrl } from "../../server/test/harness.ts";
import { startDeployment, type Deployment } from "./deployment.ts";
import { missingPrograms } from "./programs.ts";

/** Why the deployment tests cannot run here ("" when they can); under CI=true a missing program fails the run instead. */
export const deploymentSkipReason = (() => {
  const missing = missingPrograms();
  if (missing.length === 0) return "";
  const reason = `missing ${missing.join(", ")}`;
  if (process.env.CI === "true") throw new Error(`CI=true but ${reason}`);
  console.log(`[tests] local deployment tests skipped: ${reason}`);
  return reason;
})();

/**
 * The local deployment for the suite's tests, on the test run's Postgres server, with the variables `env` gives (once
 * the suite's other set-up ran) for every instance; stopped, with everything it started, after them.
 */
export function deploymentForSuite(env: () => Record<string, string>, use: (deployment: Deployment) => void): void {
  let deployment: Deployment | undefined;
  beforeAll(async () => {
    deployment = await startDeployment({ postgresUrl: databaseUrl, env: env() });
    use(deployment);
  }, 120_000);
  afterAll(() => deployment?.stop(), 60_000);
}
