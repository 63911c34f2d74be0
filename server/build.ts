import path from "node:path";
import { build } from "esbuild";
import { PROJECT_ROOT } from "./paths.ts";

/**
 * Bundles the three process entry points into dist/server/entry/. Workers then
 * start from plain JavaScript, without compiling TypeScript at boot: a crashed
 * worker is replaced about twice as fast (docs/decisions/0001).
 * Dependencies stay in node_modules (not bundled).
 */
export const BUILD_DIR = path.join(PROJECT_ROOT, "dist/server/entry");

export async function buildServer(): Promise<void> {
  await build({
    entryPoints: ["primary", "web", "worker"].map((name) => path.join(PROJECT_ROOT, `server/entry/${name}.ts`)),
    outdir: BUILD_DIR,
    bundle: true,
    splitting: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    sourcemap: true,
    logLevel: "warning",
  });
}

if (import.meta.url === `file://${process.argv[1]}`) await buildServer();
