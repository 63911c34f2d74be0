// wrk (Debian's `wrk`), the load generator of the bench when it is installed: written in C, it takes a fraction of
// the CPU that autocannon takes for the same load, so on a small machine more of the CPUs go to the servers measured.
// A Lua script counts answers by status and, for writes, sends the bodies of a file one per request.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const WRK = "/usr/bin/wrk";
const SUMMARY_MARKER = "WRK_SUMMARY ";

export function wrkAvailable(): boolean {
  return existsSync(WRK);
}

export interface WrkLoad {
  url: string;
  method: string;
  headers: Record<string, string>;
  /** One body per request, in order; each thread takes every n-th, so none is sent twice. Once used up, the last is repeated. */
  bodies?: readonly string[];
  connections: number;
  threads: number;
  durationS: number;
}

export interface WrkResult {
  requests: number;
  reqPerSec: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** Connect, read, write errors and timeouts (not non-2xx answers, counted in `statuses`). */
  errors: number;
  statuses: Record<string, number>;
}

const luaString = (value: string) => JSON.stringify(value);

/** The script: headers and method fixed, the body from the file when there is one, statuses summed over threads. */
function script(load: WrkLoad, bodiesFile: string | undefined): string {
  const headers = Object.entries(load.headers)
    .map(([name, value]) => `  wrk.headers[${luaString(name)}] = ${luaString(value)}`)
    .join("\n");
  return `
local threads = {}
local next_id = 0
function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
  wrk.method = ${luaString(load.method)}
${headers}
  bodies = {}
  body_index = 0
  ${
    bodiesFile
      ? `local n = 0
  for line in io.lines(${luaString(bodiesFile)}) do
    if n % ${load.threads} == id then table.insert(bodies, line) end
    n = n + 1
  end`
      : ""
  }
end

function request()
  if #bodies == 0 then return wrk.format() end
  body_index = math.min(body_index + 1, #bodies)
  return wrk.format(nil, nil, nil, bodies[body_index])
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local parts = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      parts[status] = (parts[status] or 0) + count
    end
  end
  local list = {}
  for status, count in pairs(parts) do table.insert(list, string.format('"%d":%d', status, count)) end
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format('${SUMMARY_MARKER}{"requests":%d,"durationUs":%d,"errors":%d,"p50":%d,"p95":%d,"p99":%d,"statuses":{%s}}\\n',
    summary.requests, summary.duration, errors,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), table.concat(list, ",")))
end
`;
}

interface Summary {
  requests: number;
  durationUs: number;
  errors: number;
  p50: number;
  p95: number;
  p99: number;
  statuses: Record<string, number>;
}

/** Runs wrk once and reads the summary its script prints. */
export async function runWrk(load: WrkLoad): Promise<WrkResult> {
  const dir = await mkdtemp(path.join(tmpdir(), "bench-wrk-"));
  try {
    const bodiesFile = load.bodies ? path.join(dir, "bodies.txt") : undefined;
    if (bodiesFile) await writeFile(bodiesFile, `${load.bodies!.join("\n")}\n`);
    const scriptFile = path.join(dir, "load.lua");
    await writeFile(scriptFile, script(load, bodiesFile));
    const args = [`-t${load.threads}`, `-c${Math.max(load.connections, load.threads)}`, `-d${load.durationS}s`, "--timeout", "10s"];
    const { stdout } = await promisify(execFile)(WRK, [...args, "-s", scriptFile, load.url], { maxBuffer: 16 * 1024 * 1024 });
    const line = stdout.split("\n").find((l) => l.startsWith(SUMMARY_MARKER));
    if (!line) throw new Error(`wrk printed no summary:\n${stdout}`);
    const summary = JSON.parse(line.slice(SUMMARY_MARKER.length)) as Summary;
    return {
      requests: summary.requests,
      reqPerSec: summary.requests / (summary.durationUs / 1e6),
      p50Ms: summary.p50 / 1000,
      p95Ms: summary.p95 / 1000,
      p99Ms: summary.p99 / 1000,
      errors: summary.errors,
      statuses: summary.statuses,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
