import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sendOnNewConnection, startCluster, type ClusterProcess } from "../test/cluster-process.ts";
import { isAlive } from "../infra/db/embedded.ts";
import { chromiumSkipReason, launchChromium } from "../test/browser.ts";

/**
 * `npm start` on a fresh machine: no DATABASE_URL, no REDIS_URL. The primary
 * runs its own Postgres, seeds a demo, and a Ctrl-C in the terminal (SIGINT to
 * every process of the foreground group: npm, the shell, the primary, the
 * workers) stops it all as cleanly as a SIGTERM to the primary.
 */

const TEST_TIMEOUT_MS = 120_000;

/** The embedded Postgres server's pid: the first line of postmaster.pid (its backends are its children). */
async function postmasterPid(dataDir: string): Promise<number> {
  const pidFile = await fs.readFile(path.join(dataDir, "postgres", "postmaster.pid"), "utf8");
  return Number(pidFile.split("\n")[0]);
}

/** A newcomer's first minute: the app's home page, "Sign in", the printed login, the demo community's page. */
async function signInThroughTheApp(url: string, email: string, password: string): Promise<void> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ baseURL: url });
    await page.goto("/");
    await page.getByRole("link", { name: "Sign in" }).first().click();
    await page.getByLabel("Email").fill(email);
    await page.locator("input[autocomplete=current-password]").fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("link", { name: "Demo Club" }).click();
    await page.getByRole("heading", { name: "Demo Club" }).waitFor();
    // The tabs show once the admin's role in it has come back.
    await page.getByRole("tab", { name: "Events" }).waitFor();
    expect(await page.getByRole("tab", { name: "Settings" }).count()).toBe(1);
  } finally {
    await browser.close();
  }
}

describe("the embedded default (no DATABASE_URL, no REDIS_URL) through npm start", () => {
  let cluster: ClusterProcess | undefined;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "community-embedded-"));
    // As root, the embedded Postgres runs as the `postgres` user, who must be able to enter the folder.
    await fs.chmod(dataDir, 0o755);
  });
  afterAll(async () => {
    await cluster?.kill();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it(
    "starts its own Postgres, seeds the demo, prints a login that works; Ctrl-C exits 0, logs no error, leaves no process",
    async () => {
      cluster = await startCluster({
        command: ["npm", "start"],
        env: { DATABASE_URL: undefined, REDIS_URL: undefined, DATA_DIR: dataDir, WEB_CONCURRENCY: "1" },
      });
      const announcement = await cluster.waitForLog((line) => line.text.startsWith("Demo data is loaded"), 90_000);
      await cluster.waitUntilServing(60_000);
      const [, email, password] = /as (\S+) with password (\S+)$/.exec(announcement.text) ?? [];
      const login = await sendOnNewConnection(cluster.port, "POST", "/api/auth/login", { body: { email, password } });
      expect(login.status).toBe(200);
      const cookie = login.setCookie?.split(";")[0];
      const events = await fetch(`${cluster.url}/api/communities/demo-club/events`, { headers: { cookie: cookie ?? "" } });
      expect(events.status).toBe(200);
      expect(((await events.json()) as { items: unknown[] }).items).toHaveLength(1);
      // The address printed opens the app, where the printed login reaches the demo community's page.
      const home = await fetch(cluster.url);
      expect(home.status).toBe(200);
      expect(await home.text()).toContain('<div id="root">');
      if (chromiumSkipReason) console.info(`[embedded] the sign-in through the app is skipped: ${chromiumSkipReason}`);
      else await signInThroughTheApp(cluster.url, email ?? "", password ?? "");
      const postgres = await postmasterPid(dataDir);
      expect(isAlive(postgres)).toBe(true);

      const signalledAt = performance.now();
      cluster.signalGroup("SIGINT");
      const status = await cluster.exit;
      console.info(`[embedded] Ctrl-C: npm start exited ${String(status.code)} after ${Math.round(status.at - signalledAt)} ms`);

      expect({ code: status.code, signal: status.signal }).toEqual({ code: 0, signal: null });
      expect(cluster.primaryLogs("primary stopped")).toEqual([expect.objectContaining({ exitCode: 0 })]);
      expect(cluster.errorLines()).toEqual([]);
      expect(cluster.stderrText()).toBe("");
      expect(await cluster.processesLeftAfter(5_000)).toEqual([]);
      expect(isAlive(postgres)).toBe(false);
    },
    TEST_TIMEOUT_MS,
  );
});
