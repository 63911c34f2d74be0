import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { groupCpuMs } from "./cpu.ts";

describe.skipIf(!existsSync("/proc/self/stat"))("a process group's CPU time", () => {
  it("counts what the group's processes spent, and nothing of other groups", async () => {
    // Spins 400 ms, then says so and waits to be killed: its CPU time is read while it is still alive.
    const child = spawn(
      process.execPath,
      ["-e", "const end = Date.now() + 400; while (Date.now() < end); console.log('spun'); setInterval(() => {}, 1000)"],
      {
        detached: true,
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    try {
      await once(child.stdout!, "data");
      const spent = await groupCpuMs(child.pid!);
      expect(spent).toBeGreaterThanOrEqual(300);
      expect(spent).toBeLessThan(5_000);
      // A group id no process has.
      expect(await groupCpuMs(2 ** 30)).toBe(0);
    } finally {
      child.kill("SIGKILL");
    }
  });
});
