import { defineConfig } from "vitest/config";

/** Tests that start whole clusters and time restarts: they run alone, after the rest, so no other test file competes for the CPU. */
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
        test: { name: "processes", include: PROCESS_TESTS, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
