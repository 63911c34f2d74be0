import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Where the project's files are, whether this code runs from the TypeScript
 * sources (server/...) or from the bundle (dist/server/entry/...): the project
 * root is the nearest folder above with a package.json.
 */
function findProjectRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "package.json")) && fs.existsSync(path.join(dir, "server"))) return dir;
    if (dir === path.dirname(dir)) throw new Error(`no project root above ${from}`);
  }
}

const here = fileURLToPath(import.meta.url);

export const PROJECT_ROOT = findProjectRoot(path.dirname(here));
/** The web app as `npm run build` leaves it (client/ holds its sources). */
export const CLIENT_DIR = path.join(PROJECT_ROOT, "dist/client");
export const MIGRATIONS_DIR = path.join(PROJECT_ROOT, "server/infra/db/migrations");
export const PACKAGE_VERSION = (JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8")) as { version: string })
  .version;

/** A sibling entry point of the running one: web.ts beside primary.ts in the sources, web.js beside primary.js in the bundle. */
export function siblingEntry(entryUrl: string, name: "web" | "worker" | "prepare"): string {
  const entry = fileURLToPath(entryUrl);
  return path.join(path.dirname(entry), `${name}${path.extname(entry)}`);
}
