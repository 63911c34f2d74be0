import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/** Tests that start whole clusters (and stop, reload, cut and starve them), alone or as a deployment of several. */
const PROCESS_TESTS = ["server/entry/**/*.test.ts", "deploy/local/**/*.test.ts"];

/**
 * Process tests first, longest (or on a first run, largest) first: they mostly wait on their clusters (a 30 s outage,
 * reloads, deadlines), and the application tests fill the CPU meanwhile. Vitest would otherwise queue every file of
 * one project before the other's.
 */
class ProcessTestsFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (file: TestSpecification) => (file.project.name === "processes" ? 0 : 1);
    // Array#sort is stable: each group keeps the base order (failed first, then longest, then largest).
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    globalSetup: ["server/test/global-setup.ts"],
    // Tests start real servers and clusters against real Postgres and Redis.
    testTimeout: 30_000,
    hookTimeout: 90_000,
    pool: "forks",
    env: { NODE_ENV: "test" },
    // Both projects share one pool. Two files at a time: a whole cluster is five processes booting, and on a machine of two
    // CPUs three of them at once starve each other enough that a database check gets no answer within its second (the
    // breaker then rightly answers 503).
    maxWorkers: 2,
    sequence: { sequencer: ProcessTestsFirst },
    projects: [
      {
        extends: true,
        // The application tests share module instances within a worker (no isolation between files): each test file
        // starts its own server and restores whatever it stubs.
        test: {
          name: "app",
          include: ["server/**/*.test.ts", "shared/**/*.test.ts", "bench/**/*.test.ts", "deploy/**/*.test.ts"],
          exclude: PROCESS_TESTS,
          isolate: false,
        },
      },
      {
        extends: true,
        test: { name: "processes", include: PROCESS_TESTS },
      },
      {
        extends: true,
        // Chromium driven through whole flows: a page waits on the camera, the network and the server in turn.
        test: { name: "browser", include: ["client/e2e/**/*.test.ts"], testTimeout: 90_000 },
      },
    ],
  },
});
