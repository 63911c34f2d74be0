import { spawnSync, type ChildProcess } from "node:child_process";
import { answers } from "../../server/test/services.ts";

/** The Debian packages the local deployment runs, by the program it needs from each. */
export const DEPLOYMENT_PACKAGES = { pgbouncer: "pgbouncer", nginx: "nginx", "redis-server": "redis-server" } as const;

/** Where Debian puts the daemons (/usr/sbin is not on every user's PATH). */
const SEARCH_PATH = ["/usr/sbin", "/usr/bin", "/sbin", "/bin"];

/** The absolute path of a program, from PATH then the system folders; undefined when it is not installed. */
export function programPath(name: string): string | undefined {
  const folders = [...(process.env.PATH ?? "").split(":").filter(Boolean), ...SEARCH_PATH];
  const found = spawnSync("sh", ["-c", `PATH="${folders.join(":")}" command -v ${name}`], { encoding: "utf8" });
  const located = found.stdout.trim();
  return found.status === 0 && located.startsWith("/") ? located : undefined;
}

/** What is missing to start the deployment, each with the package that brings it. */
export function missingPrograms(): string[] {
  return Object.entries(DEPLOYMENT_PACKAGES).flatMap(([program, debianPackage]) =>
    programPath(program) ? [] : [`${program} (apt-get install ${debianPackage})`],
  );
}

/** Who PgBouncer and nginx's workers run as when started by root: both refuse root (PgBouncer) or drop to it (nginx). */
export function unprivilegedUser(): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const postgres = spawnSync("id", ["-u", "postgres"], { stdio: "ignore" });
  return postgres.status === 0 ? "postgres" : "nobody";
}

/** The numeric user and group of a user, to hand it a file only it may read. */
export function idsOf(user: string): { uid: number; gid: number } {
  const id = (flag: "-u" | "-g") => Number(spawnSync("id", [flag, user], { encoding: "utf8" }).stdout.trim());
  return { uid: id("-u"), gid: id("-g") };
}

/** Resolves once the started program accepts connections on its port; kills it and throws if it exits or takes over 10 s. */
export async function untilListening(child: ChildProcess, port: number, name: string): Promise<void> {
  const deadline = performance.now() + 10_000;
  while (!(await answers("127.0.0.1", port))) {
    if (child.exitCode !== null || performance.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${name} did not start on port ${port} (exit code ${child.exitCode})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Stops a started program: its exit is awaited from the start (Ctrl-C in a terminal reaches it with the rest of the
 * process group, so it may be gone before it is asked to stop).
 */
export function stopper(child: ChildProcess, signal: NodeJS.Signals): () => Promise<void> {
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  return async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
}
