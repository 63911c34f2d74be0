// wrk (Debian's `wrk`), the load generator of the bench when it is installed: written in C, it takes a fraction of
// the CPU that autocannon takes for the same load, so on a small machine more of the CPUs go to the servers measured.
// A Lua script sends the requests of a file in turn (each line its own method, path, headers and body), counts answers
// by status and times each one by its request class: the class and the send time travel in X-Request-Id, which the
// product echoes (the baseline does not: its answers are counted, not timed by class).
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { BUCKETS_PER_E, type LatencyBuckets } from "./latency.ts";

const WRK = "/usr/bin/wrk";
const SUMMARY_MARKER = "WRK_SUMMARY ";
const TIMING_MARKER = "WRK_TIMING ";

export function wrkAvailable(): boolean {
  return existsSync(WRK);
}

/** One request of a load. `class` names it in the figures (letters, digits, `_` and `-`). */
export interface LoadRequest {
  class: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface WrkLoad {
  /** Origin of the server. */
  url: string;
  /** Sent with every request, under each request's own. */
  headers: Record<string, string>;
  /** Sent in turn, each thread taking every n-th; once the list is used up it starts again. */
  requests: readonly LoadRequest[];
  connections: number;
  threads: number;
  durationS: number;
}

export interface WrkResult {
  requests: number;
  reqPerSec: number;
  /** From wrk's own histogram: every answer, whatever its status. */
  p50Ms: number;
  p99Ms: number;
  /** Connect, read, write errors and timeouts (not non-2xx answers, counted in `statuses`). */
  errors: number;
  statuses: Record<string, number>;
  /** Latency buckets by request class and status, for the answers that echoed the request id. */
  timings: Record<string, Record<string, LatencyBuckets>>;
}

const luaString = (value: string) => JSON.stringify(value);

/** A request as a line of the requests file: tab-separated class, method, path, body, then header names and values. */
export function requestLine(request: LoadRequest): string {
  const fields = [request.class, request.method, request.path, request.body ?? ""];
  for (const [name, value] of Object.entries(request.headers ?? {})) fields.push(name, value);
  if (fields.some((field) => /[\t\n]/.test(field))) throw new Error(`a ${request.class} request has a tab or a newline in it`);
  if (!/^[\w-]+$/.test(request.class)) throw new Error(`request class "${request.class}" is not made of letters, digits, _ and -`);
  return fields.join("\t");
}

/** The script: requests from the file in turn, statuses summed over threads, latencies by class and status. */
function script(load: WrkLoad, requestsFile: string): string {
  const headers = Object.entries(load.headers)
    .map(([name, value]) => `${luaString(name)}, ${luaString(value)}`)
    .join(", ");
  return `
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock, bench_timespec *ts);
]]
local now_ts = ffi.new("bench_timespec")
local function now_us()
  ffi.C.clock_gettime(1, now_ts) -- CLOCK_MONOTONIC
  return tonumber(now_ts.tv_sec) * 1000000 + math.floor(tonumber(now_ts.tv_nsec) / 1000)
end

local threads = {}
local next_id = 0
function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local function split(line)
  local fields = {}
  for field in (line .. "\\t"):gmatch("([^\\t]*)\\t") do table.insert(fields, field) end
  return fields
end

function init(args)
  statuses = {}
  timings = {}
  load_requests = {}
  index = 0
  local common = { ${headers} }
  local n = 0
  for line in io.lines(${luaString(requestsFile)}) do
    if n % ${load.threads} == id then
      local f = split(line)
      local headers = {}
      for i = 1, #common, 2 do headers[common[i]] = common[i + 1] end
      for i = 5, #f, 2 do headers[f[i]] = f[i + 1] end
      table.insert(load_requests, { class = f[1], method = f[2], path = f[3], body = f[4] ~= "" and f[4] or nil, headers = headers })
    end
    n = n + 1
  end
end

function request()
  index = index % #load_requests + 1
  local r = load_requests[index]
  r.headers["X-Request-Id"] = r.class .. "." .. now_us()
  return wrk.format(r.method, r.path, r.headers, r.body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  local id = headers["X-Request-Id"] or headers["x-request-id"]
  local class, sent = string.match(id or "", "^([%w_-]+)%.(%d+)$")
  if class then
    local bucket = math.floor(math.log(math.max(1, now_us() - tonumber(sent))) * ${BUCKETS_PER_E})
    local key = class .. " " .. status .. " " .. bucket
    timings[key] = (timings[key] or 0) + 1
  end
end

function done(summary, latency, requests)
  local parts = {}
  local times = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do parts[status] = (parts[status] or 0) + count end
    for key, count in pairs(thread:get("timings")) do times[key] = (times[key] or 0) + count end
  end
  local list = {}
  for status, count in pairs(parts) do table.insert(list, string.format('"%d":%d', status, count)) end
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format('${SUMMARY_MARKER}{"requests":%d,"durationUs":%d,"errors":%d,"p50":%d,"p99":%d,"statuses":{%s}}\\n',
    summary.requests, summary.duration, errors, latency:percentile(50), latency:percentile(99), table.concat(list, ",")))
  for key, count in pairs(times) do io.write("${TIMING_MARKER}", key, " ", count, "\\n") end
end
`;
}

interface Summary {
  requests: number;
  durationUs: number;
  errors: number;
  p50: number;
  p99: number;
  statuses: Record<string, number>;
}

/** `class status bucket count` lines into buckets by class and status. */
function parseTimings(lines: readonly string[]): WrkResult["timings"] {
  const timings: WrkResult["timings"] = {};
  for (const line of lines) {
    const [cls, status, bucket, count] = line.slice(TIMING_MARKER.length).split(" ");
    if (cls === undefined || status === undefined || bucket === undefined || count === undefined) continue;
    const byStatus = (timings[cls] ??= {});
    const buckets = (byStatus[status] ??= {});
    buckets[bucket] = (buckets[bucket] ?? 0) + Number(count);
  }
  return timings;
}

/** Runs wrk once and reads the summary its script prints. */
export async function runWrk(load: WrkLoad): Promise<WrkResult> {
  if (load.requests.length === 0) throw new Error("a wrk load needs at least one request");
  const dir = await mkdtemp(path.join(tmpdir(), "bench-wrk-"));
  try {
    const requestsFile = path.join(dir, "requests.txt");
    await writeFile(requestsFile, `${load.requests.map(requestLine).join("\n")}\n`);
    const scriptFile = path.join(dir, "load.lua");
    await writeFile(scriptFile, script(load, requestsFile));
    const args = [`-t${load.threads}`, `-c${Math.max(load.connections, load.threads)}`, `-d${load.durationS}s`, "--timeout", "10s"];
    const { stdout } = await promisify(execFile)(WRK, [...args, "-s", scriptFile, load.url], { maxBuffer: 64 * 1024 * 1024 });
    const lines = stdout.split("\n");
    const line = lines.find((l) => l.startsWith(SUMMARY_MARKER));
    if (!line) throw new Error(`wrk printed no summary:\n${stdout}`);
    const summary = JSON.parse(line.slice(SUMMARY_MARKER.length)) as Summary;
    return {
      requests: summary.requests,
      reqPerSec: summary.requests / (summary.durationUs / 1e6),
      p50Ms: summary.p50 / 1000,
      p99Ms: summary.p99 / 1000,
      errors: summary.errors,
      statuses: summary.statuses,
      timings: parseTimings(lines.filter((l) => l.startsWith(TIMING_MARKER))),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
