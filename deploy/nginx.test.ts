import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../server/config/env.ts";
import { REQUEST_TIMEOUT_MS } from "../server/entry/http-server.ts";
import { renderSample, SAMPLE_CONFIG } from "./local/nginx.ts";

/**
 * The sample nginx configuration against the product's own timings: a rolling restart fails no request only while they
 * agree (deploy/local/rolling-restart.test.ts shows it with these very values).
 */

const sample = readFileSync(SAMPLE_CONFIG, "utf8");
const production = loadConfig({
  NODE_ENV: "production",
  SESSION_SECRET: "s".repeat(32),
  TICKET_SIGNING_KEY: "t".repeat(32),
  DATABASE_URL: "postgres://app@db.internal/app",
});

/** The value of a directive (the first, or the one inside `block`), without its semicolon. */
function directive(name: string, block?: string): string {
  const scope = block ? (new RegExp(`${block}\\s*\\{([^}]*)\\}`).exec(sample)?.[1] ?? "") : sample;
  const match = new RegExp(`^\\s*${name}\\s+([^;]+);`, "m").exec(scope);
  if (!match) throw new Error(`no ${name} directive${block ? ` in ${block}` : ""}`);
  return match[1]!.trim();
}

/** nginx's time syntax, in milliseconds ("4s", "500ms", "1m"). */
function milliseconds(value: string): number {
  const match = /^(\d+)(ms|s|m)?$/.exec(value);
  if (!match) throw new Error(`not a time: ${value}`);
  const factor = { ms: 1, s: 1_000, m: 60_000 }[match[2] ?? "s"]!;
  return Number(match[1]) * factor;
}

describe("deploy/nginx/community.conf", () => {
  it("closes its idle connections to an instance before a stopping instance cuts them", () => {
    expect(milliseconds(directive("keepalive_timeout", "upstream community"))).toBeLessThan(production.shutdown.timeoutMs);
    // The instance's own idle timeout is longer still: nginx, not the instance, closes idle connections.
    expect(milliseconds(directive("keepalive_timeout", "upstream community"))).toBeLessThan(production.http.keepAliveTimeoutMs);
  });

  it("keeps connections to the instances alive over HTTP/1.1", () => {
    expect(Number(directive("keepalive", "upstream community"))).toBeGreaterThan(0);
    expect(directive("proxy_http_version")).toBe("1.1");
    expect(directive("proxy_set_header Connection")).toBe('""');
  });

  it("passes a request whose connection was refused to the next instance, and never sends a request twice", () => {
    const conditions = directive("proxy_next_upstream").split(/\s+/);
    expect(conditions).toContain("error");
    expect(conditions).not.toContain("non_idempotent");
    expect(Number(directive("proxy_next_upstream_tries"))).toBeGreaterThanOrEqual(2);
  });

  it("waits for an answer longer than the product's own deadline for a request", () => {
    expect(milliseconds(directive("proxy_read_timeout"))).toBeGreaterThan(REQUEST_TIMEOUT_MS);
    expect(milliseconds(directive("proxy_send_timeout"))).toBeGreaterThan(REQUEST_TIMEOUT_MS);
  });

  it("lets the product answer an oversized body itself", () => {
    const [, size, unit] = /^(\d+)([km])$/.exec(directive("client_max_body_size")) ?? [];
    const bytes = Number(size) * (unit === "m" ? 1024 * 1024 : 1024);
    expect(bytes).toBeGreaterThan(production.plan.bodyLimitBytes);
  });

  it("gives the product the client's address and scheme, and is run as it is by the local deployment", () => {
    expect(directive("proxy_set_header X-Forwarded-For")).toBe("$proxy_add_x_forwarded_for");
    expect(directive("proxy_set_header X-Forwarded-Proto")).toBe("$scheme");
    const rendered = renderSample(sample, 8080, [4001, 4002, 4003]);
    expect(rendered.match(/^\s*server 127\.0\.0\.1:\d+ .*;$/gm)).toEqual([
      "    server 127.0.0.1:4001 max_fails=1 fail_timeout=5s;",
      "    server 127.0.0.1:4002 max_fails=1 fail_timeout=5s;",
      "    server 127.0.0.1:4003 max_fails=1 fail_timeout=5s;",
    ]);
    expect(rendered).toContain("listen 127.0.0.1:8080;");
    const otherLines = (text: string) => text.split("\n").filter((line) => !/^\s*(server|listen) /.test(line));
    expect(otherLines(rendered)).toEqual(otherLines(sample));
  });
});
