import fs from "node:fs/promises";
import path from "node:path";
import { build } from "esbuild";
import { PROJECT_ROOT } from "./paths.ts";
import { buildClient, clientIsStale, INITIAL_JS_BUDGET_BYTES, printSizes } from "./build-client.ts";

/**
 * Bundles the process entry points into dist/server/entry/. Workers then
 * start from plain JavaScript, without compiling TypeScript at boot: a crashed
 * worker is replaced about twice as fast (docs/decisions/0001).
 * Dependencies stay in node_modules (not bundled).
 */
export const BUILD_DIR = path.join(PROJECT_ROOT, "dist/server/entry");

export async function buildServer(): Promise<void> {
  await bundleEntryPoints(
    ["primary", "web", "worker", "prepare"].map((name) => path.join(PROJECT_ROOT, `server/entry/${name}.ts`)),
    BUILD_DIR,
  );
}

/** ESM for Node 20, split into shared chunks, with source maps; packages stay in node_modules. */
export async function bundleEntryPoints(entryPoints: string[], outdir: string): Promise<void> {
  const result = await build({
    entryPoints,
    outdir,
    bundle: true,
    splitting: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    sourcemap: true,
    logLevel: "warning",
    write: false,
  });
  await fs.mkdir(outdir, { recursive: true });
  await Promise.all(result.outputFiles.map((file) => writeAtomically(file.path, file.contents)));
}

/**
 * A running cluster may fork a worker from dist/ while `npm start` or a test run rebuilds it: each file is replaced
 * whole (rename), so a process never reads one half written.
 */
async function writeAtomically(file: string, contents: Uint8Array): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await fs.writeFile(temporary, contents);
  await fs.rename(temporary, file);
}

/**
 * `npm run build`: the server's bundle, then the web app with its sizes; over the budget, the build fails.
 * `--if-stale` (what `npm start` runs) leaves a web app newer than its sources as it is.
 */
async function buildAll(ifStale: boolean): Promise<void> {
  await buildServer();
  if (ifStale && !(await clientIsStale())) return;
  const sizes = await buildClient();
  printSizes(sizes);
  const initial = sizes.find((size) => size.name.startsWith("initial"));
  if (initial && initial.gzipBytes > INITIAL_JS_BUDGET_BYTES) {
    throw new Error(`the app's initial JavaScript is ${initial.gzipBytes} bytes gzipped, over its budget of ${INITIAL_JS_BUDGET_BYTES}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await buildAll(process.argv.includes("--if-stale"));
