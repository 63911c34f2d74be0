// Memory of the product's processes under a long load: the resident set size (RSS) of every process of its group,
// sampled with ps, and per process the first, last and largest sample and the slope of a least-squares line through
// them. Flat memory is a slope near zero once the first minute's growth (JIT, pools, caches filling) is over.
import { execFile } from "node:child_process";
import { promisify } from "node:util";

export interface MemorySample {
  /** Seconds since sampling began. */
  atS: number;
  /** pid → RSS in MiB. */
  rssMiB: Map<number, number>;
}

export interface ProcessMemory {
  pid: number;
  command: string;
  samples: number;
  firstMiB: number;
  lastMiB: number;
  maxMiB: number;
  /** MiB per minute, least squares over the samples taken after the warm-up. */
  slopeMiBPerMin: number;
}

/** RSS of every process in process group `pgid`, with its command line. */
export async function groupMemory(pgid: number): Promise<Array<{ pid: number; rssMiB: number; command: string }>> {
  const { stdout } = await promisify(execFile)("ps", ["-e", "-o", "pid=,pgid=,rss=,args="]);
  return stdout
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter(([, group]) => Number(group) === pgid)
    .map(([pid, , rss, ...args]) => ({ pid: Number(pid), rssMiB: Number(rss) / 1024, command: args.join(" ") }));
}

/** Least-squares slope of y over x; 0 with fewer than two points. */
export function slope(points: ReadonlyArray<{ x: number; y: number }>): number {
  if (points.length < 2) return 0;
  const meanX = points.reduce((sum, p) => sum + p.x, 0) / points.length;
  const meanY = points.reduce((sum, p) => sum + p.y, 0) / points.length;
  const covariance = points.reduce((sum, p) => sum + (p.x - meanX) * (p.y - meanY), 0);
  const variance = points.reduce((sum, p) => sum + (p.x - meanX) ** 2, 0);
  return variance === 0 ? 0 : covariance / variance;
}

/** Samples the group every `everyS` seconds until `stop()` is called; returns the summary per process. */
export function sampleGroup(pgid: number, everyS: number): { stop: () => Promise<ProcessMemory[]> } {
  const started = performance.now();
  const samples: MemorySample[] = [];
  const commands = new Map<number, string>();
  const take = async () => {
    const processes = await groupMemory(pgid);
    for (const p of processes) commands.set(p.pid, p.command);
    samples.push({ atS: (performance.now() - started) / 1000, rssMiB: new Map(processes.map((p) => [p.pid, p.rssMiB])) });
  };
  let pending = take();
  const timer = setInterval(() => {
    pending = pending.then(take);
  }, everyS * 1000);
  return {
    stop: async () => {
      clearInterval(timer);
      await pending.then(take);
      return summarize(samples, commands, everyS * 6);
    },
  };
}

/** Per process: first/last/max, and the slope over the samples from `settleS` on (the first minute by default). */
export function summarize(samples: readonly MemorySample[], commands: ReadonlyMap<number, string>, settleS: number): ProcessMemory[] {
  return [...commands].map(([pid, command]) => {
    const own = samples.flatMap((s) => (s.rssMiB.has(pid) ? [{ x: s.atS / 60, y: s.rssMiB.get(pid)! }] : []));
    const settled = own.filter((p) => p.x * 60 >= settleS);
    return {
      pid,
      command,
      samples: own.length,
      firstMiB: own[0]?.y ?? 0,
      lastMiB: own[own.length - 1]?.y ?? 0,
      maxMiB: Math.max(0, ...own.map((p) => p.y)),
      slopeMiBPerMin: slope(settled.length >= 2 ? settled : own),
    };
  });
}
