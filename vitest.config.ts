import { defineConfig } from "vitest/config";

/** Tests that start whole clusters: they run after the rest, so no application test competes with them for the CPU. */
const PROCESS_TESTS = ["server/entry/**/*.test.ts"];

export default defineConfig({
  test: {
    globalSetup: ["server/test/global-setup.ts"],
    // Tests start real servers and clusters against real Postgres and Redis.
    testTimeout: 30_000,
    hookTimeout: 90_000,
    pool: "forks",
    env: { NODE_ENV: "test" },
    projects: [
      {
        extends: true,
        test: { name: "app", include: ["server/**/*.test.ts", "shared/**/*.test.ts"], exclude: PROCESS_TESTS, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        // Each file starts its own cluster and mostly waits on it (an outage, reloads, deadlines): they run side by side.
        test: { name: "processes", include: PROCESS_TESTS, sequence: { groupOrder: 1 }, maxWorkers: 4 },
      },
    ],
  },
});
