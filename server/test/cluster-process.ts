import { freePort } from "../infra/free-port.ts";
import { testEnv, type EnvOverrides } from "./harness.ts";
import { spawnPrimary, type ClusterProcess } from "./primary-process.ts";
import { afterAll, beforeAll } from "vitest";

export * from "./primary-process.ts";

/** The real primary under the test suite: this run's database and Redis (testEnv), on a port of its own. */

export interface StartOptions {
  /** Variables on top of testEnv(); LOG_LEVEL is "info" unless set, since the helper reads the primary's lines. */
  env?: EnvOverrides;
  /** A fixed port (for instance one already taken); a free one otherwise. */
  port?: number;
  /**
   * What to run instead of the bundle's primary: `["npm", "start"]` as a developer does in a terminal (npm, a shell,
   * the build, then the primary), or a test fixture.
   */
  command?: readonly [string, ...string[]];
}

/**
 * Only PATH and HOME (npm needs it) from this process: vitest's own variables (NODE_OPTIONS and the like) must not
 * reach the cluster.
 */
function clusterEnv(port: number, overrides: EnvOverrides): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, ...testEnv({ LOG_LEVEL: "info", ...overrides, PORT: String(port) }) };
}

export async function startCluster(options: StartOptions = {}): Promise<ClusterProcess> {
  const port = options.port ?? (await freePort());
  return spawnPrimary(clusterEnv(port, options.env ?? {}), port, options.command);
}

/** Starts a serving cluster before the suite's tests and kills whatever is left of it after them. */
export function servingClusterForSuite(use: (cluster: ClusterProcess) => void, options: StartOptions = {}, timeoutMs = 60_000): void {
  let cluster: ClusterProcess | undefined;
  beforeAll(async () => {
    cluster = await startCluster(options);
    await cluster.waitUntilServing();
    use(cluster);
  }, timeoutMs);
  afterAll(() => cluster?.kill());
}
