import { sql } from "drizzle-orm";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../config/env.ts";
import { buildContainer, type Container } from "../container.ts";
import { testEnv } from "../test/harness.ts";
import { serializeError } from "./logger.ts";

describe("errors as logged", () => {
  let container: Container;
  beforeAll(async () => {
    container = await buildContainer(loadConfig(testEnv({ REDIS_URL: undefined })), "worker", pino({ level: "silent" }));
  });
  afterAll(() => container.close());

  it("withhold the parameters of a failed query (addresses, reset links), keeping the query and the driver's cause", async () => {
    const secret = "ada@example.test https://app.example/reset-password?token=SECRET";
    const failure: unknown = await container.db.execute(sql`select ${secret}::text, 1 / 0`).catch((error: unknown) => error);
    const logged = JSON.stringify(serializeError(failure));
    expect(logged).not.toContain("SECRET");
    expect(logged).not.toContain("ada@example.test");
    expect(logged).toContain("query failed (parameters withheld): select $1::text, 1 / 0");
    expect(logged).toContain("division by zero");
  });
});
