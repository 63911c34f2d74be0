// CPU time of a server's processes (its whole process group: the primary, the web workers, the background worker),
// read from /proc on Linux: over a measured load, divided by the requests answered, it is what one request cost the
// server, whatever else ran on the machine meanwhile. Elsewhere there is no /proc and no figure.
import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { promisify } from "node:util";

let ticksPerSecond: Promise<number> | undefined;

/** The kernel's clock ticks per second (utime and stime are counted in them): 100 almost everywhere. */
function clockTicks(): Promise<number> {
  ticksPerSecond ??= promisify(execFile)("getconf", ["CLK_TCK"]).then(
    ({ stdout }) => Number(stdout.trim()) || 100,
    () => 100,
  );
  return ticksPerSecond;
}

/** User and system CPU time, in ms, of the live processes of process group `pgid`; undefined without /proc. */
export async function groupCpuMs(pgid: number): Promise<number | undefined> {
  const entries = await readdir("/proc").catch(() => undefined);
  if (!entries) return undefined;
  const ticks = await Promise.all(entries.filter((name) => /^\d+$/.test(name)).map((pid) => ticksOf(pid, pgid)));
  return (ticks.reduce((sum, n) => sum + n, 0) * 1_000) / (await clockTicks());
}

/** utime + stime of one process if it belongs to the group, else 0 (also when it exited meanwhile). */
async function ticksOf(pid: string, pgid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  // The command name, in parentheses, may hold spaces: the fields counted from after it (proc(5): pgrp is the 5th field).
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  if (Number(fields[2]) !== pgid) return 0;
  return Number(fields[11]) + Number(fields[12]);
}

/** Runs `load` and gives the group's CPU time per request answered, in µs (undefined without /proc or answers). */
export async function cpuPerRequest<T extends { requests: number }>(
  pgid: number,
  load: () => Promise<T>,
): Promise<{ result: T; cpuUsPerRequest: number | undefined }> {
  const before = await groupCpuMs(pgid);
  const result = await load();
  const after = await groupCpuMs(pgid);
  const cpuUsPerRequest =
    before === undefined || after === undefined || result.requests === 0 ? undefined : ((after - before) * 1_000) / result.requests;
  return { result, cpuUsPerRequest };
}
