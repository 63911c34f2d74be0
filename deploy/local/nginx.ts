import { spawn } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import { programPath, stopper, unprivilegedUser, untilListening } from "./programs.ts";

/** The sample shipped for production: the local deployment runs it, with its own addresses. */
export const SAMPLE_CONFIG = fileURLToPath(new URL("../nginx/community.conf", import.meta.url));

export interface Nginx {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

export interface NginxOptions {
  folder: string;
  port: number;
  /** Ports of the instances on 127.0.0.1. */
  upstreams: readonly number[];
  onLine: (line: string) => void;
}

/** The sample with these addresses: the upstream's servers (their settings kept) and the address it listens on. */
export function renderSample(sample: string, port: number, upstreams: readonly number[]): string {
  const serverLine = /^(\s*)server \S+:\d+(.*);$/m.exec(sample);
  if (!serverLine) throw new Error(`${SAMPLE_CONFIG} has no upstream server line`);
  const [, indent, settings] = serverLine;
  const servers = upstreams.map((upstream) => `${indent}server 127.0.0.1:${upstream}${settings};`).join("\n");
  return sample
    .replace(/^\s*server \S+:\d+.*;$(\n^\s*server \S+:\d+.*;$)*/m, servers)
    .replace(/^(\s*)listen \d+;$/m, `$1listen 127.0.0.1:${port};`);
}

export async function startNginx({ folder, port, upstreams, onLine }: NginxOptions): Promise<Nginx> {
  const binary = programPath("nginx");
  if (!binary) throw new Error("nginx is not installed (apt-get install nginx)");
  const prefix = path.join(folder, "nginx");
  await mkdir(prefix, { recursive: true });
  const site = renderSample(await readFile(SAMPLE_CONFIG, "utf8"), port, upstreams);
  await writeFile(path.join(prefix, "community.conf"), site);
  await writeFile(path.join(prefix, "nginx.conf"), mainConfig(prefix));
  // -e: the error log before the configuration is read, which would otherwise go to /var/log/nginx.
  const child = spawn(binary, ["-p", `${prefix}/`, "-c", "nginx.conf", "-e", "stderr"], { stdio: ["ignore", "pipe", "pipe"] });
  for (const stream of [child.stdout, child.stderr]) readline.createInterface({ input: stream }).on("line", onLine);
  await untilListening(child, port, "nginx");
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    // QUIT: finish the requests in flight, then exit.
    stop: stopper(child, "SIGQUIT"),
  };
}

/** Everything in the deployment's folder: pid, temporary files; one worker is plenty on loopback. */
function mainConfig(prefix: string): string {
  const user = unprivilegedUser();
  return `${user ? `user ${user};\n` : ""}worker_processes 1;
daemon off;
pid ${prefix}/nginx.pid;
error_log stderr warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path ${prefix}/client_body;
    proxy_temp_path ${prefix}/proxy;
    fastcgi_temp_path ${prefix}/fastcgi;
    uwsgi_temp_path ${prefix}/uwsgi;
    scgi_temp_path ${prefix}/scgi;
    include ${prefix}/community.conf;
}
`;
}
