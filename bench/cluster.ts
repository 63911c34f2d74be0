// Process helpers for the load-test harness: start a server as its own process
// group, wait until it answers HTTP, and tear the whole tree down afterwards.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";

export interface RunningProcess {
  /** Origin of the server, e.g. http://127.0.0.1:40123 */
  url: string;
  /** The group leader's pid, which is also the group's id: its workers are the group's other members. */
  pid: number;
  /** SIGTERM the whole process group and wait until every member is gone. */
  stop(): Promise<void>;
  /** False once the group leader has exited (crashed mid-benchmark, or stopped). */
  isRunning(): boolean;
  /** Last lines the process wrote (stdout and stderr), for error messages. */
  outputTail(): string;
}

export interface StartOptions {
  readyTimeoutMs?: number;
  stopTimeoutMs?: number;
  cwd?: string;
}

const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;
const POLL_INTERVAL_MS = 200;
const TAIL_LINES = 30;

// Every group we spawned and have not yet seen die. Kept at module level so a
// signal handler can stop processes that are still in their startup phase.
const liveGroups = new Map<number, RunningProcess>();

/**
 * Spawns `command` in its own process group and resolves once `readyUrl` answers 200.
 * The group (not just the pid) is what we signal later, so cluster workers and any
 * wrapper processes die with it.
 */
export async function startProcess(
  command: readonly string[],
  env: NodeJS.ProcessEnv,
  readyUrl: string,
  options: StartOptions = {},
): Promise<RunningProcess> {
  const [file, ...args] = command;
  if (file === undefined) throw new Error("startProcess: empty command");
  const child = spawn(file, args, {
    env,
    cwd: options.cwd,
    detached: true, // new process group, pgid === child.pid
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (child.pid === undefined) {
    // e.g. ENOENT: no pid, and the reason arrives as an 'error' event on the next tick
    const [error] = (await once(child, "error")) as [Error];
    throw new Error(`${command.join(" ")}: ${error.message}`);
  }
  const handle = trackChild(child, new URL(readyUrl).origin, options.stopTimeoutMs ?? STOP_TIMEOUT_MS);
  try {
    await waitUntilReady(child, readyUrl, options.readyTimeoutMs ?? READY_TIMEOUT_MS);
    return handle;
  } catch (error) {
    await handle.stop();
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${command.join(" ")}: ${reason}\n--- last output ---\n${handle.outputTail()}`, { cause: error });
  }
}

/** Stops every process group still alive; safe to call more than once. */
export async function stopAll(): Promise<void> {
  await Promise.all([...liveGroups.values()].map((p) => p.stop()));
}

// Last-resort cleanup: 'exit' handlers must be synchronous, so no graceful
// SIGTERM here, just make sure nothing outlives us (e.g. after an uncaught error).
process.on("exit", () => {
  for (const pgid of liveGroups.keys()) signalGroup(pgid, "SIGKILL");
});

function trackChild(child: ChildProcess, url: string, stopTimeoutMs: number): RunningProcess {
  const pid = child.pid as number; // checked by the caller
  const tail = captureTail(child);
  const hasExited = (): boolean => child.exitCode !== null || child.signalCode !== null;
  let stopping: Promise<void> | undefined;
  const handle: RunningProcess = {
    url,
    pid,
    isRunning: () => !hasExited(),
    outputTail: () => tail.join("\n"),
    stop: () => (stopping ??= stopGroup(pid, hasExited, stopTimeoutMs).finally(() => liveGroups.delete(pid))),
  };
  liveGroups.set(pid, handle);
  return handle;
}

/**
 * Keeps the last lines of output. The listeners stay attached for the process's
 * whole life: an undrained pipe would block a chatty server mid-benchmark.
 */
function captureTail(child: ChildProcess): string[] {
  const lines: string[] = [];
  const push = (chunk: Buffer): void => {
    for (const line of chunk.toString("utf8").split("\n")) {
      if (line.trim() === "") continue;
      lines.push(line);
      if (lines.length > TAIL_LINES) lines.shift();
    }
  };
  child.stdout?.on("data", push);
  child.stderr?.on("data", push);
  return lines;
}

async function waitUntilReady(child: ChildProcess, readyUrl: string, timeoutMs: number): Promise<void> {
  const spawnError = new Promise<never>((_, reject) => child.once("error", reject));
  spawnError.catch(() => undefined); // observed via Promise.race below
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`exited before ready (code ${child.exitCode}, signal ${child.signalCode})`);
    }
    if (await Promise.race([probe(readyUrl), spawnError])) return;
    await sleep(POLL_INTERVAL_MS);
  }
  throw new Error(`not ready after ${timeoutMs} ms (${readyUrl})`);
}

async function probe(url: string): Promise<boolean> {
  try {
    // `connection: close` so the probe leaves no keep-alive socket that could
    // delay the server's graceful shutdown later.
    const res = await fetch(url, { headers: { connection: "close" }, signal: AbortSignal.timeout(2_000) });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false; // not listening yet
  }
}

async function stopGroup(pgid: number, leaderExited: () => boolean, timeoutMs: number): Promise<void> {
  signalGroup(pgid, "SIGTERM");
  if (await groupGone(pgid, leaderExited, timeoutMs)) return;
  signalGroup(pgid, "SIGKILL");
  if (!(await groupGone(pgid, leaderExited, 5_000))) {
    throw new Error(`process group ${pgid} survived SIGKILL`);
  }
}

/**
 * Waits for the leader to be reaped by Node (a zombie would still count as a group
 * member) and for the rest of the group, e.g. cluster workers, to be gone.
 */
async function groupGone(pgid: number, leaderExited: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (leaderExited() && !signalGroup(pgid, 0)) return true;
    await sleep(100);
  }
  return false;
}

/** Returns false when no process is left in the group (ESRCH). */
function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw error;
  }
}
