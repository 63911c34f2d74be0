import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["server/**/*.test.ts", "shared/**/*.test.ts"],
    globalSetup: ["server/test/global-setup.ts"],
    // Tests start real servers and clusters against real Postgres and Redis.
    testTimeout: 30_000,
    hookTimeout: 90_000,
    pool: "forks",
    env: { NODE_ENV: "test" },
  },
});
