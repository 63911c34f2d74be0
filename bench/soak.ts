// Memory of the product's processes under a long load, three ways: the resident set size (RSS) of every process of its
// group, sampled with ps, and two V8 heap figures each process reports in /api/metrics, by role and pid: the heap in use
// (`nodejs_heap_size_used_bytes`) and the heap alive after the last full collection (`nodejs_heap_live_bytes`). For
// each, per process, the first, last and largest sample and the slope of a least-squares line through them. RSS swings
// with the collections and gives pages back late; the heap in use holds garbage not collected yet, which V8 lets grow
// for minutes; the live heap is what a leak raises.
import { execFile } from "node:child_process";
import { promisify } from "node:util";

export interface MemorySample {
  /** Seconds since sampling began. */
  atS: number;
  /** pid → MiB. */
  mib: Map<number, number>;
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
  /**
   * The lowest sample of each whole minute: what is left after the collections. A leak raises it minute after minute,
   * where the samples themselves swing with the collections by more than a leak adds in a few minutes.
   */
  floorPerMinuteMiB: number[];
}

/** One reading of every process: its pid, a figure in MiB, and what the process is. */
export type MemoryReader = () => Promise<Array<{ pid: number; mib: number; command: string }>>;

/** RSS of every process in process group `pgid`, with its command line. */
export function groupRss(pgid: number): MemoryReader {
  return async () => {
    const { stdout } = await promisify(execFile)("ps", ["-e", "-o", "pid=,pgid=,rss=,args="]);
    return stdout
      .split("\n")
      .map((line) => line.trim().split(/\s+/))
      .filter(([, group]) => Number(group) === pgid)
      .map(([pid, , rss, ...args]) => ({ pid: Number(pid), mib: Number(rss) / 1024, command: args.join(" ") }));
  };
}

export type HeapMetric = "nodejs_heap_size_used_bytes" | "nodejs_heap_live_bytes";

/** A per-process heap gauge of every process of the instance at `origin`, as its metrics give it (needs its OPS_TOKEN). */
export function instanceHeap(origin: string, opsToken: string, metric: HeapMetric): MemoryReader {
  const series = new RegExp(`^${metric}\\{(?=[^}]*role="([^"]+)")(?=[^}]*pid="(\\d+)")[^}]*\\} (\\S+)$`);
  return async () => {
    const response = await fetch(`${origin}/api/metrics`, { headers: { authorization: `Bearer ${opsToken}` } });
    if (!response.ok) throw new Error(`GET /api/metrics answered ${response.status}`);
    return (await response.text()).split("\n").flatMap((line) => {
      const [, role, pid, bytes] = series.exec(line) ?? [];
      return role ? [{ pid: Number(pid), mib: Number(bytes) / 2 ** 20, command: role }] : [];
    });
  };
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

/** Reads every `everyS` seconds until `stop()` is called; returns the summary per process. */
export function sampleMemory(read: MemoryReader, everyS: number): { stop: () => Promise<ProcessMemory[]> } {
  const started = performance.now();
  const samples: MemorySample[] = [];
  const commands = new Map<number, string>();
  const take = async () => {
    const processes = await read();
    for (const p of processes) commands.set(p.pid, p.command);
    samples.push({ atS: (performance.now() - started) / 1000, mib: new Map(processes.map((p) => [p.pid, p.mib])) });
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

function floorPerMinute(points: ReadonlyArray<{ x: number; y: number }>): number[] {
  const floors: number[] = [];
  for (const { x, y } of points) {
    const minute = Math.floor(x);
    floors[minute] = Math.min(floors[minute] ?? Infinity, y);
  }
  return floors.filter((floor) => floor !== undefined);
}

/** Per process: first/last/max, and the slope over the samples from `settleS` on (the first minute by default). */
export function summarize(samples: readonly MemorySample[], commands: ReadonlyMap<number, string>, settleS: number): ProcessMemory[] {
  return [...commands].map(([pid, command]) => {
    const own = samples.flatMap((s) => (s.mib.has(pid) ? [{ x: s.atS / 60, y: s.mib.get(pid)! }] : []));
    const settled = own.filter((p) => p.x * 60 >= settleS);
    return {
      pid,
      command,
      samples: own.length,
      firstMiB: own[0]?.y ?? 0,
      lastMiB: own[own.length - 1]?.y ?? 0,
      maxMiB: Math.max(0, ...own.map((p) => p.y)),
      slopeMiBPerMin: slope(settled.length >= 2 ? settled : own),
      floorPerMinuteMiB: floorPerMinute(own),
    };
  });
}
