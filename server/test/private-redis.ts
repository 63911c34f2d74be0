import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { freePort } from "../infra/free-port.ts";
import { answers } from "./services.ts";
import { sleep } from "./traffic.ts";

/**
 * A redis-server of the test's own, on a free port, without persistence, that
 * the test may freeze (SIGSTOP) and thaw (SIGCONT) like a Redis stalled by its
 * host: connections stay open and nothing answers. The shared Redis is never touched.
 */
export interface PrivateRedis {
  url: string;
  port: number;
  freeze(): void;
  thaw(): void;
  /** SIGKILL, as a crashed or OOM-killed Redis: nothing is flushed, every connection drops. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/** Why private Redis tests cannot run here, or undefined when they can. */
export function privateRedisSkipReason(): string | undefined {
  const probe = spawnSync("redis-server", ["--version"], { stdio: "ignore" });
  return probe.error || probe.status !== 0 ? "no redis-server binary on the PATH" : undefined;
}

/** On a free port, or on `port` (a Redis started again where the killed one was, empty). */
export async function startPrivateRedis(port?: number): Promise<PrivateRedis> {
  port ??= await freePort();
  const child: ChildProcess = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    stdio: "ignore",
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const deadline = performance.now() + 10_000;
  while (!(await answers("127.0.0.1", port))) {
    if (performance.now() > deadline || child.exitCode !== null) {
      child.kill("SIGKILL");
      throw new Error(`redis-server did not start on port ${port}`);
    }
    await sleep(25);
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    freeze: () => child.kill("SIGSTOP"),
    thaw: () => child.kill("SIGCONT"),
    async kill() {
      child.kill("SIGKILL");
      await exited;
    },
    async stop() {
      // A frozen process ignores SIGTERM until it runs again.
      child.kill("SIGCONT");
      child.kill("SIGTERM");
      await exited;
    },
  };
}
