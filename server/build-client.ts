import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { PROJECT_ROOT } from "./paths.ts";

/**
 * Builds the web app (client/, with Vite) into dist/client, then prints what
 * each kind of page loads before it shows: the entry chunk and every chunk it
 * imports statically, gzipped. The member pages must stay under the budget;
 * the scanner's decoder and the operators' page load only when opened.
 */
export const INITIAL_JS_BUDGET_BYTES = 200 * 1024;

const CLIENT_ROOT = path.join(PROJECT_ROOT, "client");
const OUT_DIR = path.join(PROJECT_ROOT, "dist/client");

interface ManifestChunk {
  file: string;
  isEntry?: boolean;
  isDynamicEntry?: boolean;
  imports?: string[];
  dynamicImports?: string[];
  css?: string[];
  assets?: string[];
}

type Manifest = Record<string, ManifestChunk>;

export interface BundleSize {
  name: string;
  files: number;
  gzipBytes: number;
}

/**
 * Vite in a process of its own, with NODE_ENV=production: React's JSX transform and React itself both follow
 * NODE_ENV, and a test run's is "test" (React's development build is three times larger, and mixing the two breaks).
 */
export async function buildClient(): Promise<BundleSize[]> {
  // The package's own command (its exports name no bin): beside its package.json.
  const vite = path.join(path.dirname(createRequire(import.meta.url).resolve("vite/package.json")), "bin/vite.js");
  await promisify(execFile)(process.execPath, [vite, "build", "--config", path.join(CLIENT_ROOT, "vite.config.ts"), "--logLevel", "warn"], {
    env: { ...process.env, NODE_ENV: "production" },
  });
  return bundleSizes();
}

/** Whether a source of the app (client/, shared/) changed since dist/client was built, or it never was. */
export async function clientIsStale(): Promise<boolean> {
  const built = await fs.stat(path.join(OUT_DIR, ".vite/manifest.json")).catch(() => undefined);
  const sources = Math.max(await newestChange(CLIENT_ROOT), await newestChange(path.join(PROJECT_ROOT, "shared")));
  return !built || built.mtimeMs < sources;
}

/** Test runs and `npm start` build the app once, then only when its sources change. */
export async function buildClientIfStale(): Promise<void> {
  if (await clientIsStale()) await buildClient();
}

async function newestChange(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, (await fs.stat(path.join(entry.parentPath, entry.name))).mtimeMs);
  }
  return newest;
}

/** The gzipped size of each entry (the app) and each lazily loaded page, with what it imports statically. */
export async function bundleSizes(): Promise<BundleSize[]> {
  const manifest = JSON.parse(await fs.readFile(path.join(OUT_DIR, ".vite/manifest.json"), "utf8")) as Manifest;
  const sizes: BundleSize[] = [];
  for (const [key, chunk] of Object.entries(manifest)) {
    if (!chunk.isEntry && !chunk.isDynamicEntry) continue;
    const files = new Set<string>();
    collectStatic(manifest, key, files);
    // A lazy page loads only what the entry has not loaded already.
    if (chunk.isDynamicEntry) for (const loaded of initialFiles(manifest)) files.delete(loaded);
    let gzipBytes = 0;
    for (const file of files) gzipBytes += gzipSync(await fs.readFile(path.join(OUT_DIR, file))).length;
    sizes.push({ name: chunk.isEntry ? "initial (every page)" : `lazy ${key.replace(/^.*\/src\//, "")}`, files: files.size, gzipBytes });
  }
  return sizes;
}

function collectStatic(manifest: Manifest, key: string, into: Set<string>): void {
  const chunk = manifest[key];
  if (!chunk || into.has(chunk.file)) return;
  if (chunk.file.endsWith(".js")) into.add(chunk.file);
  for (const imported of chunk.imports ?? []) collectStatic(manifest, imported, into);
}

function initialFiles(manifest: Manifest): Set<string> {
  const files = new Set<string>();
  for (const [key, chunk] of Object.entries(manifest)) if (chunk.isEntry) collectStatic(manifest, key, files);
  return files;
}

export function printSizes(sizes: BundleSize[]): void {
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} kB`;
  process.stdout.write(`JavaScript per page, gzipped (initial budget ${kib(INITIAL_JS_BUDGET_BYTES)}):\n`);
  for (const size of sizes.sort((a, b) => b.gzipBytes - a.gzipBytes)) {
    process.stdout.write(`  ${size.name.padEnd(44)} ${kib(size.gzipBytes).padStart(9)}  (${size.files} files)\n`);
  }
}
