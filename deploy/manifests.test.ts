import fs from "node:fs";
import path from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { commandLineRole, loadConfig, type AppEnv } from "../server/config/env.ts";
import { BUILD_DIR } from "../server/build.ts";
import { CLIENT_DIR, MIGRATIONS_DIR, PROJECT_ROOT } from "../server/paths.ts";
import { PROBE_PATHS } from "../server/modules/health/index.ts";

/**
 * The deployment files (Procfile, deploy/Dockerfile, deploy/k8s/) against the code they start: the entry point the build
 * writes, the roles the command line accepts, the port and shutdown delays the configuration resolves, the probes' paths.
 * A change on either side that the other does not follow fails here rather than in a rollout.
 */

const ROOT = PROJECT_ROOT;
const K8S_DIR = path.join(ROOT, "deploy/k8s");
const relative = (file: string) => path.relative(ROOT, file).split(path.sep).join("/");

/** What every process starts: the primary's bundle, which runs one role alone when given --role. */
const ENTRY = relative(path.join(BUILD_DIR, "primary.js"));

/** Beyond the drain delay and the shutdown timeout, time to close pools and Redis: the primary gives its children the same 5 s. */
const CLOSE_MARGIN_S = 5;

/** The production environment the image and the Procfile expect from the platform, at its minimum. */
const PRODUCTION_ENV = {
  NODE_ENV: "production",
  DATABASE_URL: "postgres://app:secret@postgres:5432/community",
  SESSION_SECRET: "s".repeat(32),
  TICKET_SIGNING_KEY: "t".repeat(32),
};

/** A valid value for each key of the Secret the manifests reference: the configuration must accept them, the optional ones left out or not. */
const SAMPLE_SECRETS: Record<string, string> = {
  DATABASE_URL: "postgres://app:secret@pgbouncer:6432/community",
  DATABASE_DIRECT_URL: "postgres://app:secret@postgres:5432/community",
  REDIS_URL: "redis://redis:6379",
  SESSION_SECRET: "s".repeat(32),
  TICKET_SIGNING_KEY: "t".repeat(32),
  OPS_TOKEN: "o".repeat(32),
  STRIPE_SECRET_KEY: "sk_test_sample",
  STRIPE_WEBHOOK_SECRET: "whsec_sample",
  STRIPE_CONNECT_WEBHOOK_SECRET: "whsec_sample",
  SENDGRID_API_KEY: "SG.sample",
  SENDGRID_WEBHOOK_PUBLIC_KEY: "sample",
};

/** Postgres's defaults (max_connections, superuser_reserved_connections): the shipped sizing must fit a stock server. */
const STOCK_POSTGRES = { maxConnections: 100, superuserReserved: 3 };
/** A role's start applies migrations on the direct URL: one client holding the advisory lock, one for the queue's schema. */
const MIGRATION_CONNECTIONS = 2;

const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");

/** The role a command starts, as the code reads it (throws on a role it does not know), after checking it runs the bundle. */
function roleOf(argv: readonly string[]): string | undefined {
  expect(argv[0], `${argv.join(" ")}: runs node`).toBe("node");
  expect(argv.filter((arg) => !arg.startsWith("-")).slice(1), `${argv.join(" ")}: runs ${ENTRY}`).toEqual([ENTRY]);
  return commandLineRole(argv);
}

// --- Procfile ---

function procfile(): Map<string, string[]> {
  const processes = new Map<string, string[]>();
  for (const line of read("Procfile").split("\n")) {
    if (line.trim() === "" || line.startsWith("#")) continue;
    const match = /^([\w-]+):\s*(.+)$/.exec(line);
    expect(match, `Procfile line "${line}"`).not.toBeNull();
    processes.set(match![1]!, match![2]!.trim().split(/\s+/));
  }
  return processes;
}

// --- Dockerfile ---

interface Instruction {
  keyword: string;
  args: string;
}

interface Stage {
  name: string | undefined;
  instructions: Instruction[];
}

function dockerfileStages(): Stage[] {
  const logical = read("deploy/Dockerfile")
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  const stages: Stage[] = [];
  for (const line of logical) {
    const [keyword = "", ...rest] = line.split(/\s+/);
    const instruction = { keyword: keyword.toUpperCase(), args: rest.join(" ") };
    if (instruction.keyword === "FROM") stages.push({ name: /\bAS\s+(\S+)/i.exec(instruction.args)?.[1], instructions: [] });
    else if (instruction.keyword !== "ARG" || stages.length > 0) stages.at(-1)?.instructions.push(instruction);
  }
  return stages;
}

const lastOf = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword).at(-1);

function execForm(instruction: Instruction | undefined, what: string): string[] {
  expect(instruction, `the runtime stage has a ${what}`).toBeDefined();
  // The exec form: no shell between tini and node, so signals reach them.
  const parsed: unknown = JSON.parse(instruction!.args);
  expect(Array.isArray(parsed) && parsed.every((arg) => typeof arg === "string"), `${what} in exec form`).toBe(true);
  return parsed as string[];
}

/** Sources of a COPY, as paths of the build context or of the stage it copies from (--from=), without their leading "/app/". */
function copySources(instruction: Instruction, stages: Stage[]): { from: string | undefined; sources: string[] } {
  const words = instruction.args.split(/\s+/);
  const from = words.find((word) => word.startsWith("--from="))?.slice("--from=".length);
  const paths = words.filter((word) => !word.startsWith("--")).slice(0, -1);
  const workdir = from ? lastOf(stages.find((stage) => stage.name === from) ?? { name: undefined, instructions: [] }, "WORKDIR")?.args : "";
  const strip = (source: string) => (workdir && source.startsWith(`${workdir}/`) ? source.slice(workdir.length + 1) : source);
  return { from, sources: paths.map((source) => strip(source).replace(/^\.\//, "").replace(/\/$/, "")) };
}

const covers = (source: string, needed: string) => source === "." || needed === source || needed.startsWith(`${source}/`);

/** .dockerignore's patterns, as Docker reads them: relative to the context's root, `*` within one path segment. */
function dockerignored(file: string): boolean {
  return read(".dockerignore")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .some((pattern) => {
      const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*")}(/.*)?$`);
      return regex.test(file);
    });
}

// --- Kubernetes ---

type Manifest = Record<string, unknown> & { kind: string; apiVersion: string; metadata: { name: string; labels?: Record<string, string> } };

interface EnvEntry {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean }; configMapKeyRef?: { name: string; key: string } };
}

interface Probe {
  httpGet?: { path: string; port: number | string };
  exec?: { command: string[] };
  periodSeconds?: number;
  failureThreshold?: number;
}

interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  env?: EnvEntry[];
  resources?: { requests?: { cpu?: string; memory?: string }; limits?: { cpu?: string; memory?: string } };
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] }; sleep?: { seconds: number } } };
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
}

interface PodTemplate {
  metadata: { labels: Record<string, string> };
  spec: {
    containers: Container[];
    terminationGracePeriodSeconds?: number;
    restartPolicy?: string;
    securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  };
}

type Workload = Manifest & {
  spec: {
    replicas?: number;
    selector?: { matchLabels: Record<string, string> };
    strategy?: { rollingUpdate?: { maxSurge?: number | string } };
    template: PodTemplate;
  };
};

/** Parsed again only when a file changed: every test reads them, several times. */
let parsed: { texts: string; manifests: Manifest[] } | undefined;

function k8sManifests(): Manifest[] {
  const files = fs.readdirSync(K8S_DIR).filter((file) => /\.ya?ml$/.test(file));
  expect(files.length).toBeGreaterThan(0);
  const texts = files.map((file) => [file, fs.readFileSync(path.join(K8S_DIR, file), "utf8")] as const);
  const key = JSON.stringify(texts);
  if (parsed?.texts !== key) {
    const manifests = texts.flatMap(([file, text]) =>
      parseAllDocuments(text).flatMap((document) => {
        expect(document.errors, `deploy/k8s/${file}`).toEqual([]);
        const manifest = document.toJS() as Manifest | null;
        return manifest ? [manifest] : [];
      }),
    );
    parsed = { texts: key, manifests };
  }
  return parsed.manifests;
}

const ofKind = <T extends Manifest = Manifest>(kind: string) => k8sManifests().filter((m) => m.kind === kind) as T[];

/** The workload that runs a role, found by what its container runs rather than by its name. */
function workloadOfRole(role: string): Workload {
  const found = [...ofKind<Workload>("Deployment"), ...ofKind<Workload>("Job")].filter(
    (workload) => roleOf(theContainer(workload).args ?? []) === role,
  );
  expect(
    found.map((w) => `${w.kind}/${w.metadata.name}`),
    `one workload runs --role=${role}`,
  ).toHaveLength(1);
  return found[0]!;
}

function theContainer(workload: Workload): Container {
  const { containers } = workload.spec.template.spec;
  expect(containers, `${workload.metadata.name}: one container`).toHaveLength(1);
  return containers[0]!;
}

const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);

/** A container's environment as the process gets it, SAMPLE_SECRETS standing in for the Secret's values. */
function environmentOf(container: Container, includeOptional: boolean): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const source of container.envFrom ?? []) {
    expect(source.secretRef, `${container.name}: secrets are referenced key by key, so that this test knows them`).toBeUndefined();
    const configMap = ofKind<Manifest & { data: Record<string, string> }>("ConfigMap").find(
      (m) => m.metadata.name === source.configMapRef?.name,
    );
    expect(configMap, `${container.name}: ConfigMap ${source.configMapRef?.name} is in deploy/k8s`).toBeDefined();
    Object.assign(env, configMap!.data);
  }
  for (const entry of container.env ?? []) {
    const secret = entry.valueFrom?.secretKeyRef;
    if (entry.value !== undefined) env[entry.name] = entry.value;
    else if (secret) {
      expect(Object.keys(SAMPLE_SECRETS), `${container.name}: a sample value for secret key ${secret.key}`).toContain(secret.key);
      if (includeOptional || !secret.optional) env[entry.name] = SAMPLE_SECRETS[secret.key];
    } else throw new Error(`${container.name}: ${entry.name} comes from neither a value nor a Secret`);
  }
  return env;
}

/** The configuration the container's process resolves, with only the required secrets and with all of them. */
function configsOf(workload: Workload): AppEnv[] {
  const container = theContainer(workload);
  return [false, true].map((includeOptional) => loadConfig(environmentOf(container, includeOptional), 4));
}

/** A probe's or a Service's port, by number or by the container port's name. */
function portNumber(container: Container, port: number | string): number | undefined {
  return typeof port === "number" ? port : container.ports?.find((p) => p.name === port)?.containerPort;
}

/** The preStop pause: Kubernetes's own `sleep` action, or `sleep` run in the container. */
function preStopSeconds(container: Container): number {
  const preStop = container.lifecycle?.preStop;
  if (preStop?.sleep) return preStop.sleep.seconds;
  const command = preStop?.exec?.command ?? [];
  expect(
    command.length === 2 && command[0] === "sleep" && /^\d+$/.test(command[1] ?? ""),
    `preStop is "sleep <seconds>": ${command.join(" ")}`,
  ).toBe(true);
  return Number(command[1]);
}

function maxSurge(workload: Workload): number {
  const surge = workload.spec.strategy?.rollingUpdate?.maxSurge;
  expect(typeof surge, `${workload.metadata.name}: maxSurge is a number of pods, so that the connection budget can count them`).toBe(
    "number",
  );
  return surge as number;
}

describe("Procfile", () => {
  it("declares web, worker and release, each running the bundle's entry with its role", () => {
    const processes = procfile();
    expect([...processes.keys()].sort()).toEqual(["release", "web", "worker"]);
    expect(roleOf(processes.get("web")!)).toBe("web");
    expect(roleOf(processes.get("worker")!)).toBe("worker");
    // The release phase applies the migrations and exits before the new processes start.
    expect(roleOf(processes.get("release")!)).toBe("migrate");
  });

  it("names the entry the build writes, the one `npm start` runs", () => {
    expect(fs.existsSync(path.join(ROOT, ENTRY)), `${ENTRY} is built`).toBe(true);
    const packageJson = JSON.parse(read("package.json")) as { scripts: Record<string, string> };
    expect(packageJson.scripts.start).toContain(ENTRY);
  });
});

describe("deploy/Dockerfile", () => {
  // Read in each test, so that a broken file fails each test that needs it with its own message.
  let stages: Stage[], runtime: Stage, production: AppEnv;
  beforeEach(() => {
    stages = dockerfileStages();
    runtime = stages.at(-1)!;
    production = loadConfig(PRODUCTION_ENV, 4);
  });

  it("builds in a stage of its own and runs from a last stage with production dependencies only", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const build = stages.find((stage) => stage.instructions.some((i) => i.keyword === "RUN" && /\bnpm run build\b/.test(i.args)));
    expect(build, "a stage runs npm run build").toBeDefined();
    expect(build).not.toBe(runtime);
    const installs = runtime.instructions.filter((i) => i.keyword === "RUN" && /\bnpm (ci|install)\b/.test(i.args));
    expect(installs.length).toBeGreaterThan(0);
    for (const install of installs) expect(install.args).toMatch(/--omit=dev\b/);
    expect(runtime.instructions.some((i) => i.keyword === "ENV" && /\bNODE_ENV=production\b/.test(i.args))).toBe(true);
  });

  it("copies into the runtime stage what the bundle reads from disk", () => {
    const copies = runtime.instructions.filter((i) => i.keyword === "COPY").map((i) => copySources(i, stages));
    const needed = [ENTRY, relative(CLIENT_DIR), relative(MIGRATIONS_DIR), "package.json", "package-lock.json"];
    for (const file of needed) {
      const copy = copies.find(({ sources }) => sources.some((source) => covers(source, file)));
      expect(copy, `the runtime stage copies ${file}`).toBeDefined();
      // From the context: .dockerignore must let it through. From the build stage: it was built there.
      if (!copy!.from) expect(dockerignored(file), `.dockerignore keeps ${file}`).toBe(false);
    }
    // A machine's own node_modules (its native binaries) and build never reach the image.
    expect(dockerignored("node_modules")).toBe(true);
    expect(dockerignored("dist")).toBe(true);
  });

  it("runs node under tini, as a user other than root, on the code's default port", () => {
    const user = lastOf(runtime, "USER")?.args.split(":")[0];
    expect(user, "the runtime stage sets USER").toBeDefined();
    expect(["root", "0"]).not.toContain(user);
    expect(
      runtime.instructions.some((i) => i.keyword === "RUN" && /\binstall\b.*\btini\b/.test(i.args)),
      "tini is installed",
    ).toBe(true);
    const entrypoint = execForm(lastOf(runtime, "ENTRYPOINT"), "ENTRYPOINT");
    expect(path.basename(entrypoint[0] ?? "")).toBe("tini");
    expect(entrypoint.slice(1)).toEqual(["--"]);
    // Without arguments the image runs the primary: the whole instance in one container.
    expect(roleOf(execForm(lastOf(runtime, "CMD"), "CMD"))).toBeUndefined();
    expect(lastOf(runtime, "EXPOSE")?.args.split(/\s+/)).toEqual([String(production.port)]);
  });

  it("checks health on the liveness path and the configured port", () => {
    const healthcheck = lastOf(runtime, "HEALTHCHECK");
    expect(healthcheck?.args).toContain(PROBE_PATHS.live);
    expect(healthcheck?.args).toMatch(new RegExp(`process\\.env\\.PORT \\|\\| ${production.port}\\b`));
  });
});

describe("deploy/k8s", () => {
  // Found in each test, so that a missing or ambiguous role fails each test that needs it with its own message.
  let web: Workload, worker: Workload, migrate: Workload, webContainer: Container;
  beforeEach(() => {
    web = workloadOfRole("web");
    worker = workloadOfRole("worker");
    migrate = workloadOfRole("migrate");
    webContainer = theContainer(web);
  });

  it("runs web and worker as Deployments and the migrations as a Job, from one image", () => {
    expect(web.kind).toBe("Deployment");
    expect(worker.kind).toBe("Deployment");
    expect(migrate.kind).toBe("Job");
    expect(["Never", "OnFailure"]).toContain(migrate.spec.template.spec.restartPolicy);
    expect(new Set([web, worker, migrate].map((workload) => theContainer(workload).image)).size).toBe(1);
    for (const workload of [web, worker, migrate]) {
      // `command` would replace the image's ENTRYPOINT, and tini with it.
      expect(theContainer(workload).command, `${workload.metadata.name}: keeps the image's ENTRYPOINT`).toBeUndefined();
      const pod = workload.spec.template.spec.securityContext;
      const container = theContainer(workload).securityContext;
      expect(container?.runAsNonRoot ?? pod?.runAsNonRoot, `${workload.metadata.name}: runAsNonRoot`).toBe(true);
      // The image's user by name cannot be checked by Kubernetes: a numeric one, not root, is set.
      expect(container?.runAsUser ?? pod?.runAsUser, `${workload.metadata.name}: runAsUser`).toBeGreaterThan(0);
    }
  });

  it("gives every role a configuration the code accepts in production, with Redis for the long-running ones", () => {
    for (const workload of [web, worker, migrate]) {
      for (const config of configsOf(workload)) {
        expect(config.production, `${workload.metadata.name}: NODE_ENV=production`).toBe(true);
        if (workload !== migrate) expect(config.redisUrl, `${workload.metadata.name}: REDIS_URL`).toBeDefined();
      }
    }
  });

  it("sizes each process's pool the same on any node", () => {
    for (const workload of [web, worker]) {
      const env = environmentOf(theContainer(workload), true);
      const pools = [1, 2, 16, 64].map((cpus) => loadConfig(env, cpus).plan.poolMaxPerProcess);
      expect(new Set(pools).size, `${workload.metadata.name}: pool per process on 1 to 64 CPUs: ${pools.join(", ")}`).toBe(1);
    }
  });

  it("fits the pools of every pod, at the peak of a rollout, in a stock Postgres", () => {
    const hpa = ofKind<Manifest & { spec: { maxReplicas: number } }>("HorizontalPodAutoscaler")[0]!;
    const pool = (workload: Workload) => configsOf(workload)[1]!.plan.poolMaxPerProcess;
    const webPods = hpa.spec.maxReplicas + maxSurge(web);
    const workerPods = (worker.spec.replicas ?? 1) + maxSurge(worker);
    // A pod's migration connections close before its pool opens: counted apart only for the Job, which has no pool.
    const peak = webPods * pool(web) + workerPods * pool(worker) + MIGRATION_CONNECTIONS;
    expect(peak).toBeLessThanOrEqual(STOCK_POSTGRES.maxConnections - STOCK_POSTGRES.superuserReserved);
  });

  it("serves the web role on the configured port, behind a Service", () => {
    for (const config of configsOf(web)) expect(webContainer.ports?.map((p) => p.containerPort)).toEqual([config.port]);
    const services = ofKind<
      Manifest & { spec: { selector: Record<string, string>; ports: { targetPort?: number | string; port: number }[] } }
    >("Service");
    expect(services).toHaveLength(1);
    const service = services[0]!;
    expect(selects(service.spec.selector, web.spec.template.metadata.labels), "the Service selects the web pods").toBe(true);
    expect(selects(service.spec.selector, worker.spec.template.metadata.labels), "and not the worker's").toBe(false);
    expect(selects(service.spec.selector, migrate.spec.template.metadata.labels), "nor the Job's").toBe(false);
    for (const port of service.spec.ports) expect(portNumber(webContainer, port.targetPort ?? port.port)).toBe(configsOf(web)[0]!.port);
    expect(selects(web.spec.selector!.matchLabels, web.spec.template.metadata.labels)).toBe(true);
  });

  it("probes liveness and readiness on the code's paths and port", () => {
    const port = configsOf(web)[0]!.port;
    const probes = { startupProbe: PROBE_PATHS.live, livenessProbe: PROBE_PATHS.live, readinessProbe: PROBE_PATHS.ready } as const;
    for (const [probe, expected] of Object.entries(probes) as [keyof typeof probes, string][]) {
      const httpGet = webContainer[probe]?.httpGet;
      if (probe === "startupProbe" && !httpGet) continue;
      expect(httpGet?.path, `web ${probe}`).toBe(expected);
      expect(portNumber(webContainer, httpGet!.port), `web ${probe} port`).toBe(port);
    }
  });

  it("has no HTTP probe on the worker, which serves no HTTP", () => {
    const container = theContainer(worker);
    expect(container.ports ?? []).toEqual([]);
    for (const probe of [container.startupProbe, container.livenessProbe, container.readinessProbe]) expect(probe?.httpGet).toBeUndefined();
  });

  /*
   * The preStop rule. A deleted pod leaves the Service's endpoints at once, but every node's proxy and the ingress
   * controller learn it asynchronously, and meanwhile they may still open connections to it: the pod must go on accepting
   * them, so SIGTERM waits behind the preStop pause. The code cannot know how long that propagation takes; the pause
   * must at least match the two delays the deployment already accepts for taking a pod out of rotation: Kubernetes's own
   * time to act on an unready pod (readiness periodSeconds × failureThreshold), and the drain delay the product gives a
   * load balancer to see its readiness 503 (SHUTDOWN_DRAIN_DELAY_MS), whichever is longer.
   */
  it("pauses before SIGTERM at least as long as a pod takes to leave rotation", () => {
    const readiness = webContainer.readinessProbe!;
    // Kubernetes's defaults when unset.
    const detectionS = (readiness.periodSeconds ?? 10) * (readiness.failureThreshold ?? 3);
    for (const config of configsOf(web)) {
      expect(preStopSeconds(webContainer)).toBeGreaterThanOrEqual(Math.max(detectionS, config.shutdown.drainDelayMs / 1000));
    }
  });

  it("lets the web pod finish its shutdown within its grace period", () => {
    // The grace period runs from the start of preStop; SIGTERM comes only after it.
    const graceS = web.spec.template.spec.terminationGracePeriodSeconds ?? 30;
    for (const config of configsOf(web)) {
      const { drainDelayMs, timeoutMs } = config.shutdown;
      expect(drainDelayMs, "production drains before closing").toBeGreaterThan(0);
      expect(graceS).toBeGreaterThanOrEqual(preStopSeconds(webContainer) + (drainDelayMs + timeoutMs) / 1000 + CLOSE_MARGIN_S);
    }
  });

  it("lets the worker finish an email in progress within its grace period", () => {
    const graceS = worker.spec.template.spec.terminationGracePeriodSeconds ?? 30;
    for (const config of configsOf(worker)) expect(graceS).toBeGreaterThanOrEqual(config.email.sendTimeoutMs / 1000 + CLOSE_MARGIN_S);
  });

  it("autoscales the web Deployment on CPU, which its pods request", () => {
    const hpas = ofKind<
      Manifest & {
        spec: {
          scaleTargetRef: { apiVersion: string; kind: string; name: string };
          minReplicas?: number;
          maxReplicas: number;
          metrics: { type: string; resource?: { name: string; target: { type: string } } }[];
        };
      }
    >("HorizontalPodAutoscaler");
    expect(hpas).toHaveLength(1);
    const hpa = hpas[0]!;
    expect(hpa.apiVersion).toBe("autoscaling/v2");
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: web.metadata.name });
    expect(hpa.spec.metrics).toContainEqual(
      expect.objectContaining({ type: "Resource", resource: expect.objectContaining({ name: "cpu" }) }),
    );
    expect(hpa.spec.metrics.find((m) => m.resource?.name === "cpu")?.resource?.target.type).toBe("Utilization");
    // Utilization is a percentage of the request: without one the autoscaler has nothing to compute.
    expect(webContainer.resources?.requests?.cpu).toBeDefined();
    // The autoscaler owns the count: a fixed one in the Deployment would be reset at every apply.
    expect(web.spec.replicas).toBeUndefined();
    expect(hpa.spec.minReplicas ?? 1).toBeGreaterThanOrEqual(2);
  });

  it("bounds voluntary disruptions of the web pods, and of them only", () => {
    const budgets = ofKind<Manifest & { spec: { selector: { matchLabels: Record<string, string> } } }>("PodDisruptionBudget");
    expect(budgets).toHaveLength(1);
    const selector = budgets[0]!.spec.selector.matchLabels;
    expect(selects(selector, web.spec.template.metadata.labels)).toBe(true);
    expect(selects(selector, worker.spec.template.metadata.labels)).toBe(false);
    expect(selects(selector, migrate.spec.template.metadata.labels)).toBe(false);
  });
});
