import { describe, expect, it } from "vitest";
import { CapacityPlanError, checkBudgetAgainstServer, planCapacity } from "./capacity.ts";
import { commandLineRole, ConfigError, loadConfig } from "./env.ts";

describe("capacity planner", () => {
  it("splits the budget less the reserve between web workers and the background worker", () => {
    const plan = planCapacity("growth", {}, 4);
    expect(plan.webWorkers).toBe(4);
    expect(plan.poolProcesses).toBe(5);
    expect(plan.poolMaxPerProcess).toBe(Math.floor((40 - 5) / 5));
    expect(plan.poolConnectionsTotal + plan.dbConnectionReserve).toBeLessThanOrEqual(plan.dbConnectionBudget);
  });

  it("caps web workers by the tier but lets WEB_CONCURRENCY decide", () => {
    expect(planCapacity("starter", {}, 16).webWorkers).toBe(2);
    expect(planCapacity("starter", { webWorkers: 3 }, 16).webWorkers).toBe(3);
    expect(planCapacity("scale", {}, 1).webWorkers).toBe(1);
  });

  it("refuses a plan that leaves fewer than two connections per pool, saying what to change", () => {
    expect(() => planCapacity("growth", { webWorkers: 8, dbConnectionBudget: 20 }, 8)).toThrow(CapacityPlanError);
    expect(() => planCapacity("growth", { webWorkers: 8, dbConnectionBudget: 20 }, 8)).toThrow(
      /DB_CONNECTION_BUDGET=20 .* Raise DB_CONNECTION_BUDGET to 23/,
    );
  });

  it("refuses a budget above what the server accepts", () => {
    const plan = planCapacity("scale", { dbConnectionBudget: 120 }, 2);
    expect(() => checkBudgetAgainstServer(plan, 100, 3)).toThrow(/DB_CONNECTION_BUDGET=120 exceeds .* max_connections=100/);
    expect(() => checkBudgetAgainstServer(planCapacity("scale", {}, 2), 100, 3)).not.toThrow();
  });
});

describe("configuration", () => {
  it("applies the tier's defaults and the overrides", () => {
    const config = loadConfig({ CAPACITY_TIER: "starter", BODY_LIMIT_KB: "50" }, 2);
    expect(config.plan.tier).toBe("starter");
    expect(config.plan.bodyLimitBytes).toBe(50 * 1024);
    expect(config.port).toBe(5000);
    expect(config.shutdown.drainDelayMs).toBe(0);
  });

  it("names every wrong variable", () => {
    const attempt = () => loadConfig({ WEB_CONCURRENCY: "many", CAPACITY_TIER: "huge", DATABASE_URL: "mysql://x" }, 2);
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/WEB_CONCURRENCY/);
    expect(attempt).toThrow(/CAPACITY_TIER/);
    expect(attempt).toThrow(/DATABASE_URL: must start with postgres/);
  });

  it("requires the secrets in production, accepts rotation lists, and drains for 2 s there by default", () => {
    expect(() => loadConfig({ NODE_ENV: "production" }, 2)).toThrow(
      /SESSION_SECRET: required when NODE_ENV=production\n {2}TICKET_SIGNING_KEY: required when NODE_ENV=production/,
    );
    const current = "a".repeat(32);
    const previous = "old-secret-that-is-also-32-chars-long";
    const config = loadConfig({ NODE_ENV: "production", SESSION_SECRET: `${current}, ${previous}`, TICKET_SIGNING_KEY: "t".repeat(32) }, 2);
    expect(config.shutdown.drainDelayMs).toBe(2_000);
    expect(config.session.secrets).toEqual([current, previous]);
    expect(config.ticketSigningKeys).toEqual(["t".repeat(32)]);
    expect(config.session.secureCookie).toBe(true);
    expect(() => loadConfig({ SESSION_SECRET: "short" }, 2)).toThrow(/SESSION_SECRET: each secret must be at least 32 characters/);
  });

  it("trusts APP_URL's origin and the listed ones for state-changing browser requests", () => {
    const config = loadConfig(
      { APP_URL: "https://app.example.org/path", CSRF_TRUSTED_ORIGINS: "https://admin.example.org, http://localhost:5173" },
      2,
    );
    expect(config.trustedOrigins).toEqual(["https://app.example.org", "https://admin.example.org", "http://localhost:5173"]);
    expect(() => loadConfig({ CSRF_TRUSTED_ORIGINS: "not a url" }, 2)).toThrow(/CSRF_TRUSTED_ORIGINS: "not a url" is not a URL/);
  });

  it("takes a direct URL different from DATABASE_URL to mean a pooler in front, and a Secure cookie only where asked", () => {
    const pooled = "postgres://app@pooler.internal:6432/app";
    const direct = "postgres://app@db.internal:5432/app";
    expect(loadConfig({ DATABASE_URL: pooled, DATABASE_DIRECT_URL: direct }, 2).database).toMatchObject({
      directUrl: direct,
      behindPooler: true,
    });
    expect(loadConfig({ DATABASE_URL: direct, DATABASE_DIRECT_URL: direct }, 2).database.behindPooler).toBe(false);
    expect(loadConfig({ DATABASE_URL: direct }, 2).database).toMatchObject({ directUrl: direct, behindPooler: false });
    const production = { NODE_ENV: "production", SESSION_SECRET: "s".repeat(32), TICKET_SIGNING_KEY: "t".repeat(32) };
    expect(loadConfig({ ...production, SESSION_COOKIE_SECURE: "false" }, 2).session.secureCookie).toBe(false);
    expect(loadConfig({ SESSION_COOKIE_SECURE: "true" }, 2).session.secureCookie).toBe(true);
    expect(() => loadConfig({ SESSION_COOKIE_SECURE: "no" }, 2)).toThrow(/SESSION_COOKIE_SECURE/);
  });

  it("reads a role from the command line, migrate included, and names a wrong one", () => {
    expect(commandLineRole(["node", "primary.js", "--role=migrate"])).toBe("migrate");
    expect(commandLineRole(["node", "primary.js"])).toBeUndefined();
    expect(() => commandLineRole(["node", "primary.js", "--role=all"])).toThrow(/--role must be "web", "worker" or "migrate", got "all"/);
  });

  it("treats empty variables as unset", () => {
    expect(loadConfig({ PORT: "", REDIS_URL: "" }, 2)).toMatchObject({ port: 5000, redisUrl: undefined });
  });
});
