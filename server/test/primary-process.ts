import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import http from "node:http";
import net from "node:net";
import readline from "node:readline";
import path from "node:path";
import { BUILD_DIR, bundleEntryPoints } from "../build.ts";
import { PROJECT_ROOT } from "../paths.ts";

/**
 * The real primary, as `npm start` runs it (the bundle in dist/, built from the
 * current sources), as a child process, for what only a whole cluster does:
 * round-robin, restarts, reloads, shutdown, several instances behind a load
 * balancer. It runs in its own process group so that its owner can see (and
 * kill) every process it leaves behind, workers and their helpers included.
 * Nothing here depends on the test runner: the local deployment's scripts use it too.
 */

const PRIMARY_ENTRY = path.join(BUILD_DIR, "primary.js");

export type ChildRole = "web" | "worker";
export type JsonLine = Record<string, unknown>;

export interface LogLine {
  stream: "stdout" | "stderr";
  text: string;
  /** The parsed pino line, when the line is JSON. */
  json: JsonLine | undefined;
  /** performance.now() when the test process read the line. */
  at: number;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** performance.now() when the primary exited. */
  at: number;
}

export interface GroupProcess {
  pid: number;
  command: string;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls until the check passes; the message says what was awaited when it does not. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

function parseJson(text: string): JsonLine | undefined {
  if (!text.startsWith("{")) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null ? (value as JsonLine) : undefined;
  } catch {
    return undefined;
  }
}

export class ClusterProcess {
  readonly lines: LogLine[] = [];
  readonly exit: Promise<ExitStatus>;
  readonly webWorkers: number;
  readonly #child: ChildProcess;
  readonly #listeners = new Set<() => void>();
  readonly #lineListeners: Array<(line: LogLine) => void> = [];
  #openStreams = 2;

  constructor(
    child: ChildProcess,
    readonly port: number,
    env: NodeJS.ProcessEnv,
    private readonly keep: (text: string) => boolean = () => true,
  ) {
    this.#child = child;
    this.webWorkers = Number(env.WEB_CONCURRENCY);
    this.exit = new Promise((resolve) => {
      child.once("exit", (code, signal) => resolve({ code, signal, at: performance.now() }));
      // Without a listener a failed spawn would crash the test process instead of failing the test.
      child.once("error", (error) =>
        this.lines.push({ stream: "stderr", text: `spawn failed: ${error.message}`, json: undefined, at: performance.now() }),
      );
    });
    this.#collect(child.stdout, "stdout");
    this.#collect(child.stderr, "stderr");
  }

  get pid(): number {
    if (this.#child.pid === undefined) throw new Error("the primary did not start");
    return this.#child.pid;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Calls `listener` with every line from now on (the lines before are in `lines`). */
  onLine(listener: (line: LogLine) => void): void {
    this.#lineListeners.push(listener);
  }

  /** The primary's own JSON lines with this message, in order. */
  primaryLogs(msg: string): JsonLine[] {
    return this.lines.flatMap((line) => (line.json?.role === "primary" && line.json.msg === msg ? [line.json] : []));
  }

  stderrText(): string {
    return this.lines.flatMap((line) => (line.stream === "stderr" ? [line.text] : [])).join("\n");
  }

  /** Resolves with the first line (already read or still to come, from line `from` on) that matches. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs = 30_000, from = 0): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.lines.find((line, index) => index >= from && predicate(line));
        if (found) finish(() => resolve(found));
        // Both streams are closed: nothing more will come.
        else if (this.#openStreams === 0) finish(() => reject(this.#missingLine("the output ended")));
      };
      const timer = setTimeout(() => finish(() => reject(this.#missingLine(`${timeoutMs} ms passed`))), timeoutMs);
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.#listeners.delete(check);
        settle();
      };
      this.#listeners.add(check);
      check();
    });
  }

  /** Pids of the children of this role that said they were ready and have not exited since, per the primary's log. */
  readyPids(role: ChildRole): number[] {
    const ready = new Set<number>();
    for (const line of this.lines) {
      const json = line.json;
      if (json?.role !== "primary" || json.child !== role || typeof json.childPid !== "number") continue;
      if (json.msg === "child ready") ready.add(json.childPid);
      if (json.msg === "child exit") ready.delete(json.childPid);
    }
    return [...ready];
  }

  /** Every web worker and the background worker are ready, and the port answers. */
  async waitUntilServing(timeoutMs = 45_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    const allReady = () => this.readyPids("web").length === this.webWorkers && this.readyPids("worker").length === 1;
    await waitFor(allReady, timeoutMs, `${this.webWorkers} web workers and the background worker to be ready\n${this.#tail()}`);
    const answers = async () => {
      const outcome = await getHealth(this.port);
      return outcome.kind === "response" && outcome.status === 200;
    };
    await waitFor(answers, Math.max(1_000, deadline - performance.now()), `GET /api/health to answer 200\n${this.#tail()}`);
  }

  /** To the primary only: the children must hear of it from the primary, as in production. */
  signal(signal: NodeJS.Signals): void {
    process.kill(this.pid, signal);
  }

  /** To every process of the group at once, as a terminal's Ctrl-C does. */
  signalGroup(signal: NodeJS.Signals): void {
    process.kill(-this.pid, signal);
  }

  /** Parsed JSON lines at level error (50) or above, from any process. */
  errorLines(): JsonLine[] {
    return this.lines.flatMap((line) => (typeof line.json?.level === "number" && line.json.level >= 50 ? [line.json] : []));
  }

  /** Live processes of the primary's group (zombies are dead, only not yet reaped, and are left out). */
  processesLeft(): GroupProcess[] {
    const table = execFileSync("ps", ["-eo", "pid=,pgid=,stat=,args="], { encoding: "utf8" });
    return table.split("\n").flatMap((row) => {
      const match = /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(row);
      if (!match || Number(match[2]) !== this.pid || match[3]!.startsWith("Z")) return [];
      return [{ pid: Number(match[1]), command: match[4]! }];
    });
  }

  /** What is left of the group once it had up to timeoutMs to empty (a child may outlive the primary by a few ms). */
  async processesLeftAfter(timeoutMs: number): Promise<GroupProcess[]> {
    await waitFor(() => this.processesLeft().length === 0, timeoutMs, "the process group to empty").catch(() => undefined);
    return this.processesLeft();
  }

  /** Cleanup for afterAll: SIGKILL to the whole group, whatever state the test left it in. */
  async kill(): Promise<void> {
    try {
      process.kill(-this.pid, "SIGKILL");
    } catch (error) {
      // ESRCH: the group is already empty.
      if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
    }
    await Promise.race([this.exit, sleep(5_000)]);
  }

  #collect(stream: NodeJS.ReadableStream | null, name: LogLine["stream"]): void {
    if (!stream) throw new Error(`no ${name} pipe from the primary`);
    const reader = readline.createInterface({ input: stream, crlfDelay: Infinity });
    reader.on("line", (text) => {
      if (!this.keep(text)) return;
      const line: LogLine = { stream: name, text, json: parseJson(text), at: performance.now() };
      this.lines.push(line);
      for (const listener of this.#lineListeners) listener(line);
      this.#notify();
    });
    reader.on("close", () => {
      this.#openStreams -= 1;
      this.#notify();
    });
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }

  #missingLine(why: string): Error {
    return new Error(`No matching log line (${why})\n${this.#tail()}`);
  }

  /** The last lines of output, to make a failure readable without the whole log. */
  #tail(count = 30): string {
    return this.lines
      .slice(-count)
      .map((line) => line.text.slice(0, 400))
      .join("\n");
  }
}

/**
 * The primary of the bundle (or `command`) as the leader of a new process group, with exactly this environment. Only the
 * lines `keep` accepts are kept (a long run under load would otherwise keep every request's line).
 */
export function spawnPrimary(
  env: NodeJS.ProcessEnv,
  port: number,
  command?: readonly [string, ...string[]],
  keep?: (text: string) => boolean,
): ClusterProcess {
  const [file, ...args] = command ?? [process.execPath, "--enable-source-maps", PRIMARY_ENTRY];
  const child = spawn(file, args, {
    cwd: PROJECT_ROOT,
    env,
    // A new process group (and session) led by the spawned process: processesLeft() and kill() rely on it.
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  return new ClusterProcess(child, port, env, keep);
}

/** Times are performance.now(); connectedAt is when the TCP handshake completed, if it did (unknown on a reused keep-alive socket). */
export type Outcome =
  | { kind: "response"; status: number; pid: number | undefined; startedAt: number; connectedAt: number | undefined; endedAt: number }
  | { kind: "error"; code: string; startedAt: number; connectedAt: number | undefined; endedAt: number };

function pidOf(body: string): number | undefined {
  const json = parseJson(body);
  return typeof json?.pid === "number" ? json.pid : undefined;
}

function errorCode(error: Error): string {
  return (error as NodeJS.ErrnoException).code ?? error.message;
}

/**
 * GET /api/health. Without an agent each request opens a new connection (and
 * says `Connection: close`): with keep-alive every request would stay on the
 * worker that accepted the first one, and round-robin would be invisible.
 */
export interface RequestOptions {
  /** A keep-alive agent to reuse connections; by default a new connection per request. */
  agent?: http.Agent | false;
  timeoutMs?: number;
  /** /api/health by default; /api/health/live also says which pid answered, without touching the database. */
  path?: "/api/health" | "/api/health/live";
}

export function getHealth(
  port: number,
  { agent = false, timeoutMs = 10_000, path = "/api/health" }: RequestOptions = {},
): Promise<Outcome> {
  const startedAt = performance.now();
  let connectedAt: number | undefined;
  return new Promise((resolve) => {
    const failed = (error: Error) => resolve({ kind: "error", code: errorCode(error), startedAt, connectedAt, endedAt: performance.now() });
    const headers = agent === false ? { connection: "close" } : {};
    const request = http.get({ host: "127.0.0.1", port, path, agent, headers }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => {
        const status = response.statusCode ?? 0;
        resolve({ kind: "response", status, pid: pidOf(body), startedAt, connectedAt, endedAt: performance.now() });
      });
      response.on("error", failed);
    });
    request.on("socket", (socket) => {
      // A keep-alive socket handed out again is connected already: it will never emit "connect", and a listener
      // added to it for every request would pile up.
      if (!socket.connecting) return;
      socket.once("connect", () => (connectedAt = performance.now()));
    });
    request.setTimeout(timeoutMs, () => request.destroy(Object.assign(new Error("request timed out"), { code: "TIMEOUT" })));
    request.on("error", failed);
  });
}

/**
 * A request held in flight by the client: the request line and part of the
 * headers go out now, the end of the headers only when `finish()` is called.
 * The server counts the connection as busy from the first byte, so a draining
 * worker has to wait for it; that is the "slow request" the API does not have.
 */
export interface HeldRequest {
  /** Resolves once the first part is written. */
  sent: Promise<void>;
  finish(): Promise<Outcome>;
}

export function holdRequest(port: number): HeldRequest {
  const startedAt = performance.now();
  const socket = net.connect({ host: "127.0.0.1", port });
  let raw = "";
  let connectedAt: number | undefined;
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => (raw += chunk));
  const outcome = new Promise<Outcome>((resolve) => {
    socket.on("error", (error) => resolve({ kind: "error", code: errorCode(error), startedAt, connectedAt, endedAt: performance.now() }));
    socket.on("end", () => resolve(parseRawResponse(raw, startedAt, connectedAt)));
  });
  const sent = new Promise<void>((resolve) => {
    socket.once("connect", () => {
      connectedAt = performance.now();
      socket.write(`GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`, () => resolve());
    });
    // A refused connection is sent too, as far as waiting goes: finish() then reports the error.
    socket.once("error", () => resolve());
  });
  return {
    sent,
    finish() {
      socket.write("Connection: close\r\n\r\n");
      return outcome;
    },
  };
}

function parseRawResponse(raw: string, startedAt: number, connectedAt: number | undefined): Outcome {
  const endedAt = performance.now();
  const status = /^HTTP\/1\.1 (\d{3})/.exec(raw);
  if (!status) return { kind: "error", code: `no HTTP response (${raw.length} bytes)`, startedAt, connectedAt, endedAt };
  const body = raw.slice(raw.indexOf("\r\n\r\n") + 4);
  return { kind: "response", status: Number(status[1]), pid: pidOf(body), startedAt, connectedAt, endedAt };
}

export function describeOutcome(outcome: Outcome): string {
  return outcome.kind === "response" ? `HTTP ${outcome.status} from ${outcome.pid}` : `error ${outcome.code}`;
}

/** Every outcome that is not a 200, described. */
export const notOk = (outcomes: Outcome[]) =>
  outcomes.filter((outcome) => outcome.kind !== "response" || outcome.status !== 200).map(describeOutcome);

/** Outcomes counted by status or error code, for the figures a test prints. */
export const countBy = (outcomes: Outcome[]) =>
  outcomes.reduce<Record<string, number>>((counts, outcome) => {
    const key = outcome.kind === "response" ? String(outcome.status) : outcome.code;
    return { ...counts, [key]: (counts[key] ?? 0) + 1 };
  }, {});

/** Matches the primary's line with this message and these fields. */
export const primaryLine =
  (msg: string, fields: JsonLine = {}) =>
  (line: LogLine) =>
    line.json?.role === "primary" && line.json.msg === msg && Object.entries(fields).every(([key, value]) => line.json?.[key] === value);

export interface LoopOptions {
  /** Ends the loop at the first refused connection: once the primary no longer listens there is nothing more to learn. */
  untilRefused?: boolean;
  path?: RequestOptions["path"];
  /** A pause after each answer, leaving the CPU to the processes under test. */
  pauseMs?: number;
}

/** Requests one after the other until told to stop; each outcome is kept. */
export async function requestLoop(
  port: number,
  agent: http.Agent | false,
  stop: () => boolean,
  { untilRefused = false, path, pauseMs = 0 }: LoopOptions = {},
): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  while (!stop()) {
    const outcome = await getHealth(port, { agent, path });
    outcomes.push(outcome);
    if (untilRefused && outcome.kind === "error" && outcome.code === "ECONNREFUSED") break;
    if (pauseMs > 0) await sleep(pauseMs);
  }
  return outcomes;
}

/** The pids that answered `count` requests, each on a new connection; throws on any answer but 200. */
export async function distinctPids(port: number, count: number): Promise<Set<number>> {
  const pids = new Set<number>();
  for (let index = 0; index < count; index += 1) {
    const outcome = await getHealth(port);
    if (outcome.kind !== "response" || outcome.status !== 200 || outcome.pid === undefined)
      throw new Error(`GET /api/health: ${describeOutcome(outcome)}`);
    pids.add(outcome.pid);
  }
  return pids;
}

/** One request on a connection of its own, so that round-robin may hand it to either worker. */
export function sendOnNewConnection(
  port: number,
  method: string,
  path: string,
  { body, cookie }: { body?: unknown; cookie?: string | undefined } = {},
): Promise<{ status: number; setCookie: string | undefined }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: http.OutgoingHttpHeaders = { connection: "close" };
    if (payload) headers["content-type"] = "application/json";
    if (cookie) headers.cookie = cookie;
    const request = http.request({ host: "127.0.0.1", port, method, path, agent: false, headers }, (response) => {
      response.resume();
      response.on("end", () => resolve({ status: response.statusCode ?? 0, setCookie: response.headers["set-cookie"]?.[0] }));
    });
    request.on("error", reject);
    request.end(payload);
  });
}

/** The primary's fork and ready lines for web workers, in order. */
export const webLifecycle = (lines: LogLine[]) =>
  lines.flatMap((line) =>
    line.json?.role === "primary" && line.json.child === "web" && (line.json.msg === "fork" || line.json.msg === "child ready")
      ? [line.json.msg]
      : [],
  );

export interface Reload {
  /** From the SIGHUP to the exit of the last replaced worker. */
  ms: number;
  /** The primary's fork and ready lines for web workers during the reload. */
  lifecycle: string[];
}

/** One SIGHUP, until the primary says the reload is complete and the web workers it replaced have exited. */
export async function reloadOnce(cluster: ClusterProcess): Promise<Reload> {
  const before = cluster.readyPids("web");
  const firstLine = cluster.lines.length;
  const startedAt = performance.now();
  cluster.signal("SIGHUP");
  await cluster.waitForLog(primaryLine("reload complete"), 45_000, firstLine);
  // The retired workers drain after "reload complete"; the load stays on until they are gone.
  await waitFor(() => before.every((pid) => !cluster.readyPids("web").includes(pid)), 15_000, "the old web workers to exit");
  return { ms: Math.round(performance.now() - startedAt), lifecycle: webLifecycle(cluster.lines.slice(firstLine)) };
}

/**
 * Bundles the fixtures of minimal-primary.ts (the real supervisor with minimal children) into dist/, beside the
 * project's node_modules: plain JavaScript, so that a minimal worker starts in a fraction of a second. Returns the
 * command that runs it.
 */
export async function buildMinimalCluster(): Promise<[string, ...string[]]> {
  const fixtures = path.join(PROJECT_ROOT, "server/test/fixtures");
  const outdir = path.join(PROJECT_ROOT, "dist/test-fixtures");
  await bundleEntryPoints(
    ["minimal-primary", "minimal-web", "minimal-idle"].map((name) => path.join(fixtures, `${name}.ts`)),
    outdir,
  );
  return [process.execPath, path.join(outdir, "minimal-primary.js")];
}
